#!/usr/bin/env bash
# Builds the native addon (libs/fs-scan) once more, with extra compiler flags, into a build
# directory of its own: libs/fs-scan/build-NAME/build/Release/fs_scan.node (printed on stdout).
# The normal build (libs/fs-scan/build/Release/fs_scan.node) is not touched.
#   scripts/native-build-variant.sh NAME "CFLAGS" "LDFLAGS"
# Used by scripts/native-sanitizers.sh and scripts/native-coverage.sh; load the result with
# FILER_FS_SCAN_ADDON=<that path> (libs/fs-scan/index.cjs).
set -euo pipefail
name=$1 cflags=$2 ldflags=$3
root=$(cd "$(dirname "$0")/.." && pwd)
pkg="$root/libs/fs-scan"
out="$pkg/build-$name"

# The same binding.gyp and sources (linked, so that gcov reads the real files), built apart.
rm -rf "$out"
mkdir -p "$out"
ln -s ../binding.gyp "$out/binding.gyp"
ln -s ../src "$out/src"
ln -s ../vendor "$out/vendor"

# node-gyp as `npm ci` runs it: npm's own copy, with npm's configuration (nodedir, …) in the
# environment the way npm passes it to install scripts.
gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp=$(command -v node-gyp)
nodedir=$(npm config get nodedir)
if [ -n "$nodedir" ] && [ "$nodedir" != undefined ] && [ "$nodedir" != null ]; then export npm_config_nodedir="$nodedir"; fi

# gyp's Makefile appends $CFLAGS and $LDFLAGS after binding.gyp's flags (so -O0 wins over -O3).
(cd "$out" && CFLAGS="$cflags" LDFLAGS="$ldflags" node "$gyp" rebuild --release >"$out/build.log" 2>&1) || {
  cat "$out/build.log" >&2
  echo "native-build-variant: the $name build failed" >&2
  exit 1
}
echo "$out/build/Release/fs_scan.node"
