# syntax=docker/dockerfile:1
# One image for every Filer process; the command chooses the app:
#   docker run IMAGE api | scanner-worker | batch-worker | cli find /data --ext csv
# Build: docker build -t filer .   (docs/operations.md; nothing here has been built on the
# project's own machines, which have no Docker engine: CI builds it.)

ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: install every dependency, compile the native addons and the TypeScript ---------------
FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles from source when no prebuilt binary can be fetched; libs/fs-scan always
# compiles (node-gyp). Both need a C/C++ toolchain and Python.
RUN apt-get update \
  && apt-get install -y --no-install-recommends build-essential python3 \
  && rm -rf /var/lib/apt/lists/*
# node-gyp takes Node's headers from the image instead of downloading them.
ENV npm_config_nodedir=/usr/local \
  NX_DAEMON=false \
  NX_NO_CLOUD=true
WORKDIR /app
COPY . .
# npm ci runs the root `prepare` script, which builds every workspace (tsc -b).
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
# Production dependencies, compiled output and the .node binaries only.
RUN sh deploy/docker/prune-runtime.sh /app

# --- runtime: production dependencies and the built apps, as a non-root user ---------------------
FROM ${NODE_IMAGE} AS runtime
# tini forwards SIGTERM to the app (which finishes its shards in flight) and reaps children.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
  FILER_RESULTS_DIR=/var/lib/filer/results \
  FILER_ALLOWED_ROOTS=/data
WORKDIR /app
# Owned by root and read-only for the app's user: the apps never write below /app.
COPY --from=build /app /app
# The results directory and the default allowed root belong to the app's user (uid 1000, `node`
# in the base image), so fresh named volumes mounted there are writable.
RUN mkdir -p /var/lib/filer/results /data \
  && chown 1000:1000 /var/lib/filer/results /data \
  && ln -s /app/deploy/docker/entrypoint.sh /usr/local/bin/filer-entrypoint
USER 1000:1000
# API; scanner and batch workers' health and metrics.
EXPOSE 8080 9464 9465
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --start-interval=2s --retries=3 CMD ["node", "/app/deploy/docker/healthcheck.mjs"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/filer-entrypoint"]
CMD ["api"]
