import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, type ProcessResult } from '@filer/testing';

/**
 * FILER_FAULT=<step>:<n> makes filer SIGKILL itself the n-th time it reaches a named step. Here
 * every step a job passes is a kill point, for copy, move and rename, on one device and across
 * devices (a tmpfs), and for undo: after each kill nothing is lost, every file under a final name
 * is complete, no name appears that the job would not make; then resume finishes the job
 * exactly, and undo (killed once too) puts both trees back exactly as they were.
 */

const MiB = 1 << 20;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const TEMP = /^\..*\.filer-[^/]*\.tmp$/;

let base: string;
let tmpfs: string;
let big: string;
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-fault-points-'));
  tmpfs = fs.mkdtempSync(path.join(base, 'tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512m', 'tmpfs', tmpfs]);
  // One 64 MiB file, copied into each case: a copy of it is cut in the middle by mid-copy.
  big = path.join(base, 'big.bin');
  fs.writeFileSync(big, randomBytes(64 * MiB));
});
afterAll(() => {
  execFileSync('umount', ['-l', tmpfs]);
  fs.rmSync(base, { recursive: true, force: true });
});

/** Relative path → sha256 of every regular file below `dir` (temp files apart). */
function manifest(dir: string): { files: Map<string, string>; temps: string[] } {
  const files = new Map<string, string>();
  const temps: string[] = [];
  if (!fs.existsSync(dir)) return { files, temps };
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const p = path.join(dir, rel);
    if (!fs.lstatSync(p).isFile()) continue;
    if (TEMP.test(path.basename(rel))) temps.push(rel);
    else files.set(rel, sha(fs.readFileSync(p)));
  }
  return { files, temps };
}

/** Every directory below `dir`, relative: undo must remove the ones the job made, and only those. */
const dirsBelow = (dir: string): string[] =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((rel) => fs.lstatSync(path.join(dir, rel)).isDirectory())
        .sort()
    : [];

type Kind = 'copy' | 'move' | 'rename';

interface Case {
  kind: Kind;
  cross: boolean;
  src: string;
  dest: string;
  env: NodeJS.ProcessEnv;
  /** Original relative path → content hash. */
  original: Map<string, string>;
  /** Where each original ends up: the relative path below the target tree. */
  targetOf: (rel: string) => string;
  targetRoot: string;
}

function newCase(kind: Kind, cross: boolean): Case {
  const dir = fs.mkdtempSync(path.join(base, `${kind}-`));
  const src = path.join(dir, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'a.txt'), 'alpha');
  fs.writeFileSync(path.join(src, 'sub/b.txt'), 'bravo');
  fs.writeFileSync(path.join(src, 'sub/c.txt'), randomBytes(3000));
  fs.copyFileSync(big, path.join(src, 'sub/big.bin'));
  const dest = path.join(cross ? fs.mkdtempSync(path.join(tmpfs, 'case-')) : dir, 'dest');
  const original = manifest(src).files;
  const rename = kind === 'rename';
  return {
    kind,
    cross,
    src,
    dest,
    env: { XDG_CACHE_HOME: path.join(dir, 'cache') },
    original,
    targetRoot: rename ? src : dest,
    targetOf: (rel) => (rename ? path.join(path.dirname(rel), `k_${path.basename(rel)}`) : rel),
  };
}

const filer = (args: string[], env: NodeJS.ProcessEnv): Promise<ProcessResult> => runFiler(args, { env, timeoutMs: 120_000 });

function applyArgs(c: Case): string[] {
  if (c.kind === 'rename') return ['rename', c.src, '--to', 'k_{name}', '--apply'];
  return [c.kind, c.src, '--dest', c.dest, '--apply'];
}

async function onlyJob(env: NodeJS.ProcessEnv): Promise<string> {
  const r = await filer(['jobs', 'list'], env);
  const ids = r.stdout.split('\n').filter((l) => l !== '');
  expect(ids).toHaveLength(1);
  return ids[0].split(' ')[0];
}

/**
 * After a kill: every original is complete under its source or its target name (both for a copy,
 * or a move caught between placing its copy and removing its source), any file under a final
 * name is byte-identical to its original, and no other name exists but the job's temporaries.
 */
function checkAfterKill(c: Case, what: string): void {
  const src = manifest(c.src);
  const dst = c.kind === 'rename' ? src : manifest(c.dest);
  const finals = new Set<string>();
  for (const [rel, hash] of c.original) {
    const atSource = src.files.get(rel);
    const atTarget = dst.files.get(c.targetOf(rel));
    expect(atSource === hash || atTarget === hash, `${what}: ${rel} lost`).toBe(true);
    if (atSource !== undefined) expect(atSource, `${what}: ${rel} changed at its source`).toBe(hash);
    if (atTarget !== undefined) expect(atTarget, `${what}: ${rel} incomplete at its target`).toBe(hash);
    // On one device a relocation is a link then an unlink: between them one inode has both names.
    if (c.kind !== 'copy' && !c.cross && atSource !== undefined && atTarget !== undefined) {
      const inode = (root: string, r: string): number => fs.statSync(path.join(root, r)).ino;
      expect(inode(c.src, rel), `${what}: ${rel} doubled under two names`).toBe(inode(c.targetRoot, c.targetOf(rel)));
    }
    finals.add(rel);
    finals.add(c.targetOf(rel));
  }
  const extra = [...src.files.keys(), ...(c.kind === 'rename' ? [] : dst.files.keys())].filter((rel) => !finals.has(rel));
  expect(extra, `${what}: names the job would not make`).toEqual([]);
}

/** After a completed apply: copy → both trees whole; move/rename → every file at its target only. */
function checkApplied(c: Case, what: string): void {
  const src = manifest(c.src);
  const dst = c.kind === 'rename' ? src : manifest(c.dest);
  expect([...src.temps, ...dst.temps], `${what}: temporaries left`).toEqual([]);
  const expectedTargets = new Map([...c.original].map(([rel, hash]) => [c.targetOf(rel), hash]));
  if (c.kind === 'copy') {
    expect(src.files, `${what}: source changed`).toEqual(c.original);
    expect(dst.files, `${what}: copies`).toEqual(expectedTargets);
  } else expect(dst.files, `${what}: targets`).toEqual(expectedTargets);
  if (c.kind === 'move') expect(src.files.size, `${what}: sources left`).toBe(0);
}

function checkUndone(c: Case, srcDirs: string[], what: string): void {
  const src = manifest(c.src);
  expect(src.files, `${what}: source tree restored`).toEqual(c.original);
  expect(src.temps, `${what}: temporaries left`).toEqual([]);
  expect(dirsBelow(c.src), `${what}: source directories`).toEqual(srcDirs);
  if (c.kind !== 'rename') expect(fs.existsSync(c.dest), `${what}: --dest removed`).toBe(false);
}

async function killAt(c: Case, args: string[], fault: string): Promise<void> {
  const r = await filer(args, { ...c.env, FILER_FAULT: fault });
  expect(r.signal, `${args[0]} with FILER_FAULT=${fault} was not killed: exit ${r.code} ${r.stderr}`).toBe('SIGKILL');
  expect(r.stderr).toContain(`fault point ${fault} reached`);
}

/** The steps each job passes (on one device a move or rename is a link and an unlink, no copy). */
function stepsOf(kind: Kind, cross: boolean): string[] {
  const copying = ['before-copy:1', 'mid-copy:1', 'mid-copy:3', 'after-stage:1', 'after-fsync:1', 'after-link:2'];
  const unlinking = ['before-unlink:2', 'after-unlink:2'];
  if (kind === 'copy') return ['after-journal:1', ...copying];
  if (kind === 'rename' || !cross) return ['after-journal:1', 'after-link:2', ...unlinking];
  return ['after-journal:1', ...copying, 'after-commit:1', ...unlinking];
}

const MODES: [Kind, boolean][] = [
  ['copy', false],
  ['copy', true],
  ['move', false],
  ['move', true],
  ['rename', false],
];

describe('SIGKILL at every fault point, then resume, then undo (killed once too)', () => {
  for (const [kind, cross] of MODES) {
    for (const fault of stepsOf(kind, cross)) {
      it(`${kind}${cross ? ' across devices' : ''}, killed at ${fault}`, { timeout: 120_000 }, async () => {
        const c = newCase(kind, cross);
        const srcDirs = dirsBelow(c.src);
        await killAt(c, applyArgs(c), fault);
        checkAfterKill(c, `after the kill at ${fault}`);
        const id = await onlyJob(c.env);
        const resume = await filer(['jobs', 'resume', id], c.env);
        expect(resume.code, resume.stderr).toBe(0);
        expect(resume.stderr).toContain(`completed: ${c.original.size} done, 0 undone, 0 failed`);
        checkApplied(c, 'after resume');
        // A second resume finds nothing to do and changes nothing.
        expect((await filer(['jobs', 'resume', id], c.env)).code).toBe(0);
        checkApplied(c, 'after a second resume');

        // Undo, killed after its first action (and, for a move back across devices, mid-copy).
        const undoFault = cross && kind === 'move' ? 'mid-copy:1' : 'mid-undo:1';
        await killAt(c, ['jobs', 'undo', id], undoFault);
        checkAfterKill(c, `after the undo killed at ${undoFault}`);
        const undo = await filer(['jobs', 'undo', id], c.env);
        expect(undo.code, undo.stderr).toBe(0);
        expect(undo.stderr).toContain(`undone: 0 done, ${c.original.size} undone`);
        checkUndone(c, srcDirs, 'after undo');
      });
    }
  }
});
