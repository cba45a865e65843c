import { spawn, type ChildProcess } from 'node:child_process';
import { FILER_BIN } from './repo-paths.js';
import { runFiler, type RunFilerOptions } from './run-filer.js';

/** A CLI run started by `spawnFiler`: the child, and its end (exit code or signal, and stderr). */
export interface SpawnedFiler {
  child: ChildProcess;
  /** Everything the child wrote to stderr so far. */
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/**
 * Spawns the built CLI itself (no wrapper process), so a SIGKILL sent to `child` hits filer and
 * nothing else; stdout is dropped, stderr collected.
 */
export function spawnFiler(args: readonly string[], env: NodeJS.ProcessEnv): SpawnedFiler {
  const child = spawn(process.execPath, [FILER_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, stderr: () => stderr, exited };
}

/** One action of a job as `filer jobs show --format ndjson` prints it. */
export interface ShownAction {
  seq: number;
  source: string;
  target: string;
  size: number;
  state: string;
  reason?: string;
  sourceId?: Record<string, unknown>;
  targetId?: Record<string, unknown>;
}

/** A job's record as `filer jobs show --format ndjson` prints it (its first line). */
export interface ShownJob {
  id: string;
  kind: string;
  state: string;
  reason?: string;
  counts: Record<string, number>;
  walkErrors?: { path: string; code: string; message: string }[];
  [field: string]: unknown;
}

/** The ids of the jobs `filer jobs list` shows (newest first); throws if it fails. */
export async function listJobIds(opts: RunFilerOptions = {}): Promise<string[]> {
  const r = await runFiler(['jobs', 'list'], { timeoutMs: 60_000, ...opts });
  if (r.code !== 0) throw new Error(`filer jobs list: exit ${r.code}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(' ')[0]);
}

/** A job's record and every action of its journal (`filer jobs show ID --format ndjson`); throws if it fails. */
export async function showJob(id: string, opts: RunFilerOptions = {}): Promise<{ job: ShownJob; actions: ShownAction[] }> {
  const r = await runFiler(['jobs', 'show', id, '--format', 'ndjson'], { timeoutMs: 60_000, ...opts });
  if (r.code !== 0) throw new Error(`filer jobs show ${id}: exit ${r.code}: ${r.stderr}`);
  const [first, ...rest] = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
  return { job: (first as { job: ShownJob }).job, actions: rest as ShownAction[] };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
