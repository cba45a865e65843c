#!/usr/bin/env node
// `npm run cluster`: Redis, the API and the workers on this machine, from the built apps, until Ctrl-C.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster } from '@filer/testing';

const USAGE = `usage: npm run cluster -- [--scanners N] [--batch N]

Starts redis-server (unless FILER_REDIS_URL is set), the API on FILER_API_PORT (default 8080),
N scanner workers (default 2) and N batch workers (default 1), and stops them all on Ctrl-C.
FILER_RESULTS_DIR defaults to $XDG_STATE_HOME/filer/results (~/.local/state/filer/results),
FILER_ALLOWED_ROOTS to $HOME; without FILER_TOKENS, random tokens are made and printed.
Every other FILER_* variable is passed to the processes as it is.`;

function fail(message) {
  process.stderr.write(`cluster: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function count(flag, raw, fallback) {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 64) fail(`--${flag} ${raw}: expected a whole number from 1 to 64`);
  return Number(raw);
}

let args;
try {
  args = parseArgs({ options: { scanners: { type: 'string' }, batch: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values;
} catch (e) {
  fail(e.message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const scanners = count('scanners', args.scanners, 2);
const batch = count('batch', args.batch, 1);

const env = process.env;
const apiPort = env.FILER_API_PORT ? Number(env.FILER_API_PORT) : 8080;
if (!Number.isInteger(apiPort) || apiPort < 1 || apiPort > 65_535) fail(`FILER_API_PORT=${env.FILER_API_PORT}: expected a port number`);
const stateHome = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
const resultsDir = env.FILER_RESULTS_DIR || path.join(stateHome, 'filer', 'results');
fs.mkdirSync(resultsDir, { recursive: true });
const allowedRoots = (env.FILER_ALLOWED_ROOTS || os.homedir()).split(':').filter((r) => r !== '');
// An outside Redis is the caller's: the cluster neither starts nor stops it.
const redis = env.FILER_REDIS_URL
  ? { port: 0, url: env.FILER_REDIS_URL, dir: '', restart: () => Promise.reject(new Error('not ours')), stop: () => Promise.resolve() }
  : undefined;
const passed = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('FILER_')));

const width = Math.max(3, `scanner-${scanners}`.length, `batch-${batch}`.length);
let cluster;
let stopping = false;

async function shutdown(code, why) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`cluster: ${why}; stopping every process (SIGKILL after 10 s)\n`);
  await cluster?.stop();
  process.exit(code);
}

const onSignal = (signal) => {
  // A second Ctrl-C, or one during start-up: exit now; the exit hooks SIGKILL what is left.
  if (stopping || cluster === undefined) {
    process.stderr.write(`cluster: ${signal} again: killing every process\n`);
    process.exit(1);
  }
  void shutdown(0, `${signal} received`);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

try {
  cluster = await startCluster({
    allowedRoots,
    scanners,
    batch,
    redis,
    aof: true,
    apiPort,
    resultsDir,
    env: passed,
    onLine: (name, line) => process.stdout.write(`${name.padEnd(width)} | ${line}\n`),
    onUnexpectedExit: (name, status) => {
      const how = status.signal === null ? `with code ${status.code}` : `on ${status.signal}`;
      process.stderr.write(`cluster: ${name} exited unexpectedly ${how}\n`);
      if (cluster !== undefined) void shutdown(1, `${name} died`);
    },
  });
} catch (e) {
  process.stderr.write(`cluster: ${e.message}\n`);
  process.exit(1);
}

const { url, tokens } = cluster;
const token = env.FILER_TOKENS ? '<a token from FILER_TOKENS>' : tokens.admin;
const dir = allowedRoots[0];
const body = JSON.stringify({ kind: 'find', roots: [dir], filter: { ext: 'csv' } });
const sh = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
process.stdout.write(
  [
    '',
    `Filer cluster up: ${url}   (API docs ${url}/docs, queues ${url}/admin/queues)`,
    env.FILER_TOKENS
      ? '  tokens        from FILER_TOKENS'
      : `  token         ${tokens.admin}   (admin; read-only ${tokens.read}, write ${tokens.write})`,
    `  workers       ${cluster.workers.map((w) => `${w.name} ${w.url}/metrics`).join(', ')}`,
    `  redis         ${cluster.redis.url}${redis ? '' : ' (appendonly, temporary directory)'}`,
    `  results       ${resultsDir}`,
    `  allowed roots ${allowedRoots.join(':')}`,
    '',
    `  curl -H ${sh(`Authorization: Bearer ${token}`)} -H 'content-type: application/json' -d ${sh(body)} ${url}/v1/jobs`,
    `  npx filer --server ${url} --token ${sh(token)} find ${sh(dir)} --ext csv`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n'),
);
