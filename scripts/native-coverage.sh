#!/usr/bin/env bash
# Line, branch and function coverage of the native addon's C (libs/fs-scan/src) by its tests.
#
# Builds libs/fs-scan once more with --coverage (-O0) into libs/fs-scan/build-coverage/, runs the
# test files that exercise the addon with that build loaded in every node process they start
# (FILER_FS_SCAN_ADDON: the vitest workers and the CLI processes the tests spawn), then reads the
# counters with gcov and prints the figures (scripts/native-coverage-report.mjs). Fails (exit 1)
# when a test fails or when total line coverage is below libs/fs-scan/coverage-floor.txt.
#   bash scripts/native-coverage.sh [vitest file filters…]   (default: the list below)
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

# The CLI tests run the built CLI (dist/): build it first (incremental, seconds when up to date).
npm run build --silent >/dev/null

addon=$(scripts/native-build-variant.sh coverage "--coverage -O0 -g" "--coverage")
build=libs/fs-scan/build-coverage/build
bash scripts/native-gcov.sh prepare "$build"

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  tests=(
    # The addon's own tests (libs/storage/test)…
    libs/storage/test/native-
    libs/storage/test/scan-files.test.ts
    libs/storage/test/scan-cache-match.test.ts
    libs/storage/test/group-cached.test.ts
    libs/storage/test/local-source.test.ts
    libs/storage/test/sqlite-hash-cache.test.ts
    libs/storage/test/dupes-change.test.ts
    libs/storage/test/hash-file.test.ts
    # …and the CLI's: find, dupes and copy through the addon, in the processes the tests start.
    apps/cli/test/find-enomem.test.ts
    apps/cli/test/huge-trees.test.ts
    apps/cli/test/find.test.ts
    apps/cli/test/find-ndjson-native.test.ts
    apps/cli/test/dupes.test.ts
    apps/cli/test/batch-apply.test.ts
    apps/cli/test/swap-race.test.ts
  )
fi

# vitest ends its workers with SIGTERM, which kills node without running exit handlers: this
# preload (workers only) exits instead, so that their counters are written.
flush=$(mktemp "${TMPDIR:-/tmp}/filer-coverage-exit.XXXXXX.cjs")
trap 'rm -f "$flush"' EXIT
echo "process.on('SIGTERM', () => process.exit(143));" >"$flush"

status=0
FILER_FS_SCAN_ADDON="$addon" node node_modules/vitest/vitest.mjs run --execArgv="--require=$flush" "${tests[@]}" || status=$?
[ $status -eq 0 ] || echo "native-coverage: some tests failed (exit $status); coverage below counts what ran" >&2

bash scripts/native-gcov.sh report "$build" || status=1
echo "native-coverage: $([ $status -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
exit $status
