#!/bin/sh
# Turns a built tree (after `npm ci`, which compiles the native addons and the TypeScript) into
# what the runtime image holds: production dependencies, compiled output and the two native
# binaries. The image's build stage runs it on /app; it refuses a git checkout, since it deletes
# sources (run it on a copy to see what the runtime stage will contain).
set -eu
cd "${1:?usage: prune-runtime.sh DIR}"
if [ -e .git ]; then
  echo "prune-runtime.sh: $(pwd) is a git checkout; run it on a copy" >&2
  exit 2
fi
npm prune --omit=dev --no-audit --no-fund
# Sources, tests and build leftovers: the apps load dist/ (and libs/fs-scan/build/Release) only.
rm -rf libs/*/src libs/*/test apps/*/src apps/*/test libs/testing e2e bench docs scripts
find libs apps -name '*.tsbuildinfo' -delete
find libs apps -name 'tsconfig*.json' -delete
# The workspace link to the removed test helpers would dangle.
rm -f node_modules/@filer/testing
# Native build intermediates: keep the .node files only.
rm -rf libs/fs-scan/build/Release/obj.target libs/fs-scan/build/Release/.deps
rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src node_modules/better-sqlite3/build/deps \
  node_modules/better-sqlite3/build/Release/obj node_modules/better-sqlite3/build/Release/obj.target \
  node_modules/better-sqlite3/build/Release/.deps node_modules/better-sqlite3/build/Release/sqlite3.a \
  node_modules/better-sqlite3/build/Release/test_extension.node
# Both addons must be there: without them the image would fail at start (or walk more slowly).
test -f node_modules/better-sqlite3/build/Release/better_sqlite3.node
test -f libs/fs-scan/build/Release/fs_scan.node
