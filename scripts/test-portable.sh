#!/usr/bin/env bash
# CI's portable leg (.ci/run and the workflow's Node 22 job): `npm test` with the native addon off
# in every process (FILER_FS_SCAN_ADDON=off: the addon's own tests skip and are listed), so the
# CLI, API and workers also pass on the portable code. The files below are left to the Node 20 run
# (a plain `npm test`, which runs every file), to keep CI inside its hour: in none of them does the
# addon take part, or their code paths with it off are the rest of this leg's (docs/testing.md).
# Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."

excludes=(
  # the cluster's memory and kill soaks, whose code paths the rest of the leg covers with the addon off
  'e2e/heavy/**'
  # an S3 listing: no addon takes part; its local side is the portable find the rest of the leg runs
  apps/cli/test/s3-find.test.ts
  # dedupe actions on S3 objects: server-side copies and deletes, no addon
  apps/cli/test/s3-dupes-actions.test.ts
  # the cluster's plan phase in bounded memory: scan parts into the plan store, no walk and no addon
  libs/jobs/test/plan-bounded-memory.test.ts
  # the cluster's job store, queues and processes: PostgreSQL, results on S3, Redis losing its
  # state or killed, SIGTERM, metrics, fairness under load (their walks are the cluster tests' left here)
  e2e/cluster-pg-store.test.ts
  e2e/cluster-results-s3.test.ts
  e2e/cluster-state-loss.test.ts
  e2e/cluster-faults.test.ts
  e2e/cluster-load.test.ts
  e2e/graceful-shutdown.test.ts
  e2e/worker-lifecycle.test.ts
  # the API's routes × tokens and its limits: HTTP only
  apps/api/test/auth-matrix.test.ts
  apps/api/test/limits.test.ts
  # configuration read as text: the deployment files and the lint rules
  e2e/deploy-config.test.ts
  e2e/lint-rules.test.ts
)

args=()
for e in "${excludes[@]}"; do args+=(--exclude "$e"); done
FILER_FS_SCAN_ADDON=off exec npm test -- "${args[@]}" "$@"
