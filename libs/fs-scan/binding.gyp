{
  "targets": [
    {
      "target_name": "fs_scan",
      "sources": [
        "src/fs_scan.c",
        "src/napi_util.c",
        "src/list_stat.c",
        "src/list_records.c",
        "src/record_text.c",
        "src/tree_scan.c",
        "src/scan_cache.c",
        "src/hashing.c",
        "src/copy.c",
        "src/dedupe.c",
        "src/cache_match.c",
        "src/dupes_handle.c",
        "src/dupes_hash.c",
        "src/dupes_roots.c",
        "src/dupe_session.c",
        "src/dupe_groups.c",
        "src/dir_ops.c",
        "src/compare_at.c"
      ],
      "include_dirs": ["vendor/xxhash"],
      "cflags": ["-O3", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
