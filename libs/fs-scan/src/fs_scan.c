// The addon's entry point: registers the functions its modules define (see fs_scan_internal.h and
// dir_ops.h) on the module's exports.
#include "fs_scan_internal.h"
#include "dir_ops.h"

NAPI_MODULE_INIT() {
  napi_value sf;
  napi_create_function(env, "syncFs", NAPI_AUTO_LENGTH, sync_fs, NULL, &sf);
  napi_set_named_property(env, exports, "syncFs", sf);
  napi_value rs;
  napi_create_function(env, "readSamples", NAPI_AUTO_LENGTH, read_samples, NULL, &rs);
  napi_set_named_property(env, exports, "readSamples", rs);
  napi_value fn;
  napi_create_function(env, "listDir", NAPI_AUTO_LENGTH, list_dir, NULL, &fn);
  napi_set_named_property(env, exports, "listDir", fn);
  napi_create_function(env, "statNames", NAPI_AUTO_LENGTH, stat_names, NULL, &fn);
  napi_set_named_property(env, exports, "statNames", fn);
  napi_create_function(env, "listRecords", NAPI_AUTO_LENGTH, list_records, NULL, &fn);
  napi_set_named_property(env, exports, "listRecords", fn);
  napi_create_function(env, "scanFiles", NAPI_AUTO_LENGTH, scan_files, NULL, &fn);
  napi_set_named_property(env, exports, "scanFiles", fn);
  napi_create_function(env, "copyStaged", NAPI_AUTO_LENGTH, copy_staged, NULL, &fn);
  napi_set_named_property(env, exports, "copyStaged", fn);
  napi_create_function(env, "copyUnshared", NAPI_AUTO_LENGTH, copy_unshared, NULL, &fn);
  napi_set_named_property(env, exports, "copyUnshared", fn);
  napi_create_function(env, "dedupeRange", NAPI_AUTO_LENGTH, dedupe_range, NULL, &fn);
  napi_set_named_property(env, exports, "dedupeRange", fn);
  napi_create_function(env, "hashBatch", NAPI_AUTO_LENGTH, hash_batch, NULL, &fn);
  napi_set_named_property(env, exports, "hashBatch", fn);
  napi_create_function(env, "splitDirs", NAPI_AUTO_LENGTH, split_dirs, NULL, &fn);
  napi_set_named_property(env, exports, "splitDirs", fn);
  napi_create_function(env, "matchEntries", NAPI_AUTO_LENGTH, match_entries, NULL, &fn);
  napi_set_named_property(env, exports, "matchEntries", fn);
  napi_create_function(env, "groupCached", NAPI_AUTO_LENGTH, group_cached_js, NULL, &fn);
  napi_set_named_property(env, exports, "groupCached", fn);
  napi_create_function(env, "dupesKeep", NAPI_AUTO_LENGTH, dupes_keep, NULL, &fn);
  napi_set_named_property(env, exports, "dupesKeep", fn);
  napi_create_function(env, "scanDupes", NAPI_AUTO_LENGTH, scan_dupes, NULL, &fn);
  napi_set_named_property(env, exports, "scanDupes", fn);
  napi_create_function(env, "dupesHash", NAPI_AUTO_LENGTH, dupes_hash, NULL, &fn);
  napi_set_named_property(env, exports, "dupesHash", fn);
  napi_create_function(env, "dupesMissing", NAPI_AUTO_LENGTH, dupes_missing, NULL, &fn);
  napi_set_named_property(env, exports, "dupesMissing", fn);
  napi_create_function(env, "dupesFiles", NAPI_AUTO_LENGTH, dupes_files, NULL, &fn);
  napi_set_named_property(env, exports, "dupesFiles", fn);
  napi_create_function(env, "dupesResult", NAPI_AUTO_LENGTH, dupes_result, NULL, &fn);
  napi_set_named_property(env, exports, "dupesResult", fn);
  dir_ops_register(env, exports);
  compare_at_register(env, exports);
  return exports;
}
