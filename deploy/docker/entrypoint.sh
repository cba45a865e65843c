#!/bin/sh
# The image's entry point: the first argument chooses the app, the rest are passed to it.
#   api | scanner-worker | batch-worker   the cluster's processes (configured by FILER_* variables)
#   cli ARGS… (or filer ARGS…)            the `filer` command line
#   anything else                         run as a command (e.g. `sh` for a shell)
set -eu
app=${1:-help}
case "$app" in
  api)
    shift
    exec node /app/apps/api/dist/main.js "$@"
    ;;
  scanner-worker)
    shift
    exec node /app/apps/scanner-worker/dist/main.js "$@"
    ;;
  batch-worker)
    shift
    exec node /app/apps/batch-worker/dist/main.js "$@"
    ;;
  cli | filer)
    shift
    exec node /app/apps/cli/bin/filer.js "$@"
    ;;
  help | -h | --help)
    echo "usage: docker run IMAGE api | scanner-worker | batch-worker | cli ARGS… | COMMAND…"
    exit 0
    ;;
  *)
    exec "$@"
    ;;
esac
