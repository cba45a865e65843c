import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { runFiler, type ProcessResult } from '@filer/testing';

// Shared by the dupes-actions*.test.ts files: a case directory with its own state database, a
// snapshot of a tree (inode, mode, mtime, bytes), and the CLI run in it.

export interface Case {
  dir: string;
  env: NodeJS.ProcessEnv;
  filer(args: readonly string[], extraEnv?: NodeJS.ProcessEnv): Promise<ProcessResult>;
  /** Writes `files` (relative path → content) under dir; returns the absolute path of each. */
  write(files: Record<string, string>, mode?: number): void;
  p(rel: string): string;
  cleanup(): void;
}

export function newCase(): Case {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'filer-dupes-actions-')));
  const env = { XDG_CACHE_HOME: path.join(dir, '.state') };
  return {
    dir,
    env,
    filer: (args, extraEnv = {}) => runFiler(['--no-progress', ...args], { env: { ...env, ...extraEnv }, timeoutMs: 60_000 }),
    write(files, mode = 0o644) {
      for (const [rel, content] of Object.entries(files)) {
        const p = path.join(dir, rel);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, content, { mode });
        fs.chmodSync(p, mode);
        // Distinct, old mtimes: an undo that rewrote a file would show.
        const t = new Date(Date.UTC(2020, 0, 1 + (content.length % 28), 1, 2, 3));
        fs.utimesSync(p, t, t);
      }
    },
    p: (rel) => path.join(dir, rel),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Entry {
  kind: 'file' | 'dir' | 'symlink';
  ino?: number;
  mode?: number;
  mtimeNs?: string;
  sha?: string;
  link?: string;
}

/** Every entry under `root` except the quarantine and the state: equal snapshots mean equal trees, inode for inode. */
export function snapshot(root: string, opts: { inodes?: boolean } = {}): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      if (name === '.filer-quarantine' || name === '.state') continue;
      const r = rel === '' ? name : `${rel}/${name}`;
      const p = path.join(root, r);
      const st = fs.lstatSync(p, { bigint: true });
      if (st.isDirectory()) {
        out[r] = { kind: 'dir' };
        walk(r);
      } else if (st.isSymbolicLink()) out[r] = { kind: 'symlink', link: fs.readlinkSync(p) };
      else
        out[r] = {
          kind: 'file',
          ...(opts.inodes === false ? {} : { ino: Number(st.ino) }),
          mode: Number(st.mode) & 0o7777,
          mtimeNs: st.mtimeNs.toString(),
          sha: createHash('sha256').update(fs.readFileSync(p)).digest('hex'),
        };
    }
  };
  walk('');
  return out;
}

export const inoOf = (p: string): number => fs.lstatSync(p).ino;

/** The one job id a run's stderr names (`filer: job ID: journaled …`). */
export function jobIdOf(stderr: string): string {
  const m = /filer: job (\S+): journaled/.exec(stderr);
  if (m === null) throw new Error(`no job in: ${stderr}`);
  return m[1];
}
