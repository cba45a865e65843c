#!/usr/bin/env bash
# The native addon's tests under AddressSanitizer and UndefinedBehaviorSanitizer.
#
# Builds libs/fs-scan once more with -fsanitize=address,undefined (recovery off: the first report
# ends the process) into libs/fs-scan/build-sanitize/, then runs the test files that exercise the
# addon with that build loaded in every node process they start (FILER_FS_SCAN_ADDON; node itself
# is not instrumented, so the ASan runtime is preloaded and leak checking is off). Every report
# fails the run: the script exits 1 on any ASan report (written to log files, whichever process
# made it), any UBSan report (GCC's UBSan runtime ignores log_path beside ASan's, so its reports go
# to stderr and the process aborts: a vitest worker's reach this output, a CLI child dies by
# SIGABRT, which fails its test), or any failed test.
#   bash scripts/native-sanitizers.sh [vitest file filters…]   (default: the list below)
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

# The CLI tests run the built CLI (dist/): build it first (incremental, seconds when up to date).
npm run build --silent >/dev/null

# float-cast-overflow is not part of -fsanitize=undefined in GCC; doubles from JS are cast to sizes.
checks=address,undefined,float-cast-overflow
addon=$(scripts/native-build-variant.sh sanitize \
  "-fsanitize=$checks -fno-sanitize-recover=undefined,float-cast-overflow -fno-omit-frame-pointer -O1 -g" \
  "-fsanitize=$checks")

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  tests=(
    # The addon's own tests (libs/storage/test), each function against the portable code…
    libs/storage/test/native-
    libs/storage/test/scan-files.test.ts
    libs/storage/test/scan-cache-match.test.ts
    libs/storage/test/group-cached.test.ts
    libs/storage/test/local-source.test.ts
    libs/storage/test/sqlite-hash-cache.test.ts
    libs/storage/test/dupes-change.test.ts
    libs/storage/test/hash-file.test.ts
    # …and the CLI's, whose processes load the addon too: find, dupes and copy through it.
    apps/cli/test/find-enomem.test.ts
    apps/cli/test/huge-trees.test.ts
    apps/cli/test/dupes.test.ts
    apps/cli/test/find.test.ts
    apps/cli/test/find-ndjson-native.test.ts
    # …and the batch jobs acting through directory descriptors (dir_ops.c) while a directory is swapped.
    apps/cli/test/swap-race.test.ts
  )
fi

logs=$(mktemp -d "${TMPDIR:-/tmp}/filer-sanitizers.XXXXXX")
chmod 1777 "$logs" # tests run the CLI as `nobody` too: its reports must be writable
trap 'rm -rf "$logs"' EXIT

# Preflight: the sanitized build is what node loads, under a live ASan runtime.
export FILER_FS_SCAN_ADDON="$addon"
export LD_PRELOAD
LD_PRELOAD=$(gcc -print-file-name=libasan.so)
export ASAN_OPTIONS="detect_leaks=0:log_path=$logs/asan:log_exe_name=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1"
node -e '
  const fs = require("node:fs");
  if (!require("./libs/fs-scan")) throw new Error("the addon did not load");
  const maps = fs.readFileSync("/proc/self/maps", "utf8");
  if (!maps.includes(process.env.FILER_FS_SCAN_ADDON) || !/libasan\.so/.test(maps)) throw new Error("not the sanitized addon under ASan");
'
echo "native-sanitizers: $addon loaded under ASan+UBSan; running ${#tests[@]} test filters"

status=0
node node_modules/vitest/vitest.mjs run "${tests[@]}" 2>&1 | tee "$logs/output" || status=$?
if grep -aqE 'runtime error:|ERROR: AddressSanitizer|UndefinedBehaviorSanitizer' "$logs/output"; then
  echo "native-sanitizers: a sanitizer report is in the output above" >&2
  status=1
fi
rm "$logs/output"

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  echo "native-sanitizers: sanitizer reports:" >&2
  for f in $reports; do
    echo "--- $(basename "$f")" >&2
    cat "$f" >&2
  done
  status=1
fi
echo "native-sanitizers: $([ $status -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
exit $status
