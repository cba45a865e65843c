#!/usr/bin/env node
// Lints the API's OpenAPI document with Redocly's recommended rules, warnings failing too
// (`recommended-strict`), as the last step of `npm run lint`. The document is built as the API
// serves it, from the compiled app (`npm run build` first) but without configuration, Redis or a
// listening socket, and written to a temporary directory beside the exceptions of
// scripts/openapi-lint-ignore.yaml.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(repo, 'apps/api/dist/docs/offline-document.js');
if (!fs.existsSync(compiled)) {
  process.stderr.write(`lint-openapi: ${path.relative(repo, compiled)} is missing: run npm run build first\n`);
  process.exit(1);
}

const { offlineOpenApiDocument } = await import(compiled);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-openapi-'));
try {
  fs.writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(await offlineOpenApiDocument(), null, 2));
  // Redocly reads its ignore file from the working directory when it has no configuration file.
  fs.copyFileSync(path.join(repo, 'scripts/openapi-lint-ignore.yaml'), path.join(dir, '.redocly.lint-ignore.yaml'));
  const redocly = path.join(repo, 'node_modules/@redocly/cli/bin/cli.js');
  const run = spawnSync(process.execPath, [redocly, 'lint', '--extends=recommended-strict', '--format=stylish', 'openapi.json'], {
    cwd: dir,
    stdio: 'inherit',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  process.exitCode = run.status ?? 1;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
