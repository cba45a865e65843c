#!/usr/bin/env bash
# The README's test command (`npm test`): installs the tools the tests need
# (scripts/install-test-tools.sh), builds, then runs the tests with vitest.
#   npm test                   every test file, with line coverage checked against coverage-floor.json
#   npm test -- FILTERS…       only the test files vitest's FILTERS select, without coverage
# FILER_TEST_COVERAGE=0 runs without coverage; FILER_FS_SCAN_ADDON=off disables the native addon in
# every process (the portable leg: the addon's own tests skip and are listed; no coverage then).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

bash scripts/install-test-tools.sh
npm run build --silent

if [ $# -gt 0 ] || [ "${FILER_TEST_COVERAGE:-1}" = 0 ] || [ "${FILER_FS_SCAN_ADDON:-}" = off ]; then
  status=0
  node node_modules/vitest/vitest.mjs run "$@" || status=$?
  echo "test: vitest exited $status after $((SECONDS - started)) s"
  exit $status
fi

# The processes the tests start write their V8 coverage here (scripts/coverage/children-setup.mjs);
# some run as `nobody`.
children=$(mktemp -d "${TMPDIR:-/tmp}/filer-child-coverage.XXXXXX")
chmod 1777 "$children"
trap 'rm -rf "$children"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

status=0
FILER_CHILD_COVERAGE="$children" node node_modules/vitest/vitest.mjs run --coverage.enabled || status=$?
echo "test: vitest exited $status after $((SECONDS - started)) s"
node scripts/coverage/report.mjs coverage/in-process/coverage-final.json "$children" coverage-floor.json || status=1
echo "test: $([ $status -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
exit $status
