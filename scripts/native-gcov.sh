#!/usr/bin/env bash
# gcov counters of a --coverage build of the native addon (scripts/native-build-variant.sh), shared
# by scripts/native-coverage.sh and scripts/native-sanitizers.sh --coverage.
#   scripts/native-gcov.sh prepare BUILD   empty counter files, writable by every user
#   scripts/native-gcov.sh report BUILD    line, branch and function coverage; exit 1 below
#                                          libs/fs-scan/coverage-floor.txt
# BUILD is libs/fs-scan/build-NAME/build.
set -euo pipefail
cd "$(dirname "$0")/.."
action=$1 build=$2
objs=$build/Release/obj.target/fs_scan/src

case $action in
prepare)
  # Counters are written when a process exits, by whichever user ran it: tests run the CLI as
  # `nobody` too, so the (empty, which gcov accepts) counter files must be writable by all.
  for c in "$objs"/*.gcno; do
    install -m 666 /dev/null "${c%.gcno}.gcda"
  done
  ;;
report)
  # The addon's own sources, as binding.gyp lists them (vendored xxhash is a header, not among them).
  mapfile -t sources < <(node -e 'for (const s of JSON.parse(require("fs").readFileSync("libs/fs-scan/binding.gyp", "utf8")).targets[0].sources) console.log(`../${s}`)')
  (cd "$build" && gcov -b --json-format --stdout -o Release/obj.target/fs_scan/src "${sources[@]}" 2>/dev/null) |
    node scripts/native-coverage-report.mjs libs/fs-scan/coverage-floor.txt
  ;;
*)
  echo "native-gcov: unknown action '$action' (prepare or report)" >&2
  exit 2
  ;;
esac
