import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from '@filer/testing';

/** The built API's entry point: tests run the real process (`npm run build` first). */
export const API_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export const TOKENS = { read: 'r3ad-t0ken', write: 'wr1te-t0ken', admin: 'adm1n-t0ken' } as const;
export const FILER_TOKENS = `${TOKENS.read}:read,${TOKENS.write}:read+write,${TOKENS.admin}:admin`;

export interface ApiProcess {
  base: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote, stdout and stderr interleaved. */
  output(): string;
  /** SIGTERM, then the exit code or signal (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }>;
}

/** Spawns `node apps/api/dist/main.js` on a free loopback port and waits until it accepts connections. */
export async function startApi(env: Record<string, string>): Promise<ApiProcess> {
  if (!fs.existsSync(API_MAIN)) throw new Error(`${API_MAIN} is missing: run npm run build first`);
  const port = await freePort();
  const child = spawn(process.execPath, [API_MAIN], {
    env: { PATH: process.env.PATH, FILER_API_HOST: '127.0.0.1', FILER_API_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    await Promise.race([
      waitForPort(port, 20_000),
      exited.then(({ code }) => {
        throw new Error(`the API exited (${code}) before listening:\n${out}`);
      }),
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => out,
    async stop(timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode, killed: false };
      child.kill('SIGTERM');
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const r = await exited;
      clearTimeout(timer);
      return { ...r, killed };
    },
  };
}

/** Runs the built API with an environment and returns its exit code and output (for configuration errors). */
export function runApiOnce(env: Record<string, string>, timeoutMs = 15_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [API_MAIN], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: out }));
  });
}

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** Reads server-sent events until the stream ends (or `timeoutMs`), returning them with the comments seen. */
export async function readSse(res: Response, timeoutMs = 30_000): Promise<{ events: SseEvent[]; comments: string[] }> {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let sep: number;
      while ((sep = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, sep);
        buf = buf.slice(sep + 2);
        const ev: SseEvent = { event: 'message', data: '' };
        let isEvent = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else if (line.startsWith('id: ')) ev.id = line.slice(4);
          else if (line.startsWith('event: ')) {
            ev.event = line.slice(7);
            isEvent = true;
          } else if (line.startsWith('data: ')) {
            ev.data += line.slice(6);
            isEvent = true;
          }
        }
        if (isEvent) events.push(ev);
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return { events, comments };
}

/** One line of Prometheus' text format that is a sample (not a comment). */
export const PROM_SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eEInfNa]+$/;
