{
  "targets": [
    {
      "target_name": "fs_scan",
      "sources": ["src/fs_scan.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
