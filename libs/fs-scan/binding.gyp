{
  "targets": [
    {
      "target_name": "fs_scan",
      "sources": ["src/fs_scan.c", "src/dupe_session.c", "src/dir_ops.c"],
      "include_dirs": ["vendor/xxhash"],
      "cflags": ["-O3", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
