#!/usr/bin/env node
// The image's HEALTHCHECK: asks the app running in this container for /health/ready on its own
// port. Which app runs is read from the processes' command lines (the image runs one app per
// container), so one HEALTHCHECK serves the API and both workers; a container running the CLI,
// or anything else, is healthy by definition. Kubernetes ignores HEALTHCHECK and uses the chart's
// probes instead.
import * as fs from 'node:fs';
import * as http from 'node:http';

const APPS = {
  api: { port: 'FILER_API_PORT', host: 'FILER_API_HOST', fallback: 8080 },
  'scanner-worker': { port: 'FILER_WORKER_PORT', host: 'FILER_WORKER_HOST', fallback: 9464 },
  'batch-worker': { port: 'FILER_WORKER_PORT', host: 'FILER_WORKER_HOST', fallback: 9465 },
};

/** The app whose main.js some process of this container runs, or undefined. */
function runningApp() {
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let cmdline;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone, or not ours
    }
    const m = /\/apps\/(api|scanner-worker|batch-worker)\/dist\/main\.js/.exec(cmdline);
    if (m) return m[1];
  }
  return undefined;
}

const app = runningApp();
if (app === undefined) process.exit(0);
const { port, host, fallback } = APPS[app];
const bound = process.env[host];
const target = bound === undefined || bound === '' || bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound;
const req = http.get({ host: target, port: Number(process.env[port] || fallback), path: '/health/ready', timeout: 4000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('no answer in 4 s')));
req.on('error', (e) => {
  console.error(`healthcheck: ${app}: ${e.message}`);
  process.exit(1);
});
