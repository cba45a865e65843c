import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FilerError, type FileEntry } from '@filer/core';
import {
  applyJob,
  comparePaths,
  compileTemplate,
  FAULT_STEPS,
  isInside,
  undoJob,
  type FaultHook,
  type FileIdentity,
  type FaultStep,
  type Journal,
  type OnConflict,
  type PlannedMove,
} from '@filer/engine';
import { LocalFileOps } from '@filer/storage';
import { nameFiles, planLocalMoves, renameRequests, sourceIdOf, transferTarget } from '@filer/storage/batch';
import { defaultStatePath, openStateDb, SqliteJournal } from '@filer/storage/state';
import { noiseBytes, runFiler, type ProcessResult } from '@filer/testing';

/**
 * Battery 12: a model-based test (fast-check `commands`) of plan / apply / crash / resume / undo
 * for renames and moves, on real trees with the real planner, SqliteJournal and LocalFileOps.
 * A and B share one tmpfs (a move between them is link + unlink), T is on another (a move there
 * is stage, flush, link, unlink). The model is a map path → sha256. After every command the
 * multiset of contents on disk — one per inode, so the two names of a hard link between link and
 * unlink count once — equals the model's; when no job is cut short the tree equals the model
 * exactly; once every job is undone it equals the files as they were created.
 *
 * A crash here is in-process: the fault hook throws `Crash` at the chosen step, and from then on
 * every call to the file operations and the journal throws too, so nothing after that point
 * reaches the disk or the journal. What differs from a real SIGKILL: `catch` and `finally`
 * blocks inside LocalFileOps still run (a copy cut at mid-copy removes its half-written temporary
 * file, where a killed process leaves it), and other copies in flight stop at their own next
 * step rather than mid-write. The SIGKILL sequences at the end of this file run the built CLI
 * with FILER_FAULT for those cases, and apps/cli/test/fault-points.test.ts kills at every step.
 * Seeded: a failure prints its seed and path; FC_SEED=<n> explores another seed.
 */

const SEED = Number(process.env.FC_SEED ?? 12);
const SEQUENCES = 200;
const TEMP = /^\..*\.filer-[^/]*\.tmp$/;

const CONTENTS = [
  Buffer.alloc(0),
  Buffer.from('a'),
  Buffer.from('hello\n'),
  Buffer.from('hello\n!'),
  noiseBytes(70_000, 7),
  noiseBytes(5_000, 8),
];
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const SHAS = CONTENTS.map(sha);
const SIZE_OF = new Map(CONTENTS.map((c, i) => [SHAS[i], c.length]));

let base: string;
let dev1: string;
let dev2: string;
beforeAll(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'filer-batch-model-')));
  dev1 = path.join(base, 'dev1');
  dev2 = path.join(base, 'dev2');
  for (const d of [dev1, dev2]) {
    fs.mkdirSync(d);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', d]);
  }
});
afterAll(() => {
  for (const d of [dev1, dev2]) execFileSync('umount', ['-l', d]);
  fs.rmSync(base, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// The model

/** One planned relocation, with the content it carries and whether it crosses devices. */
interface Act {
  src: string;
  tgt: string;
  sha: string;
  cross: boolean;
  /** The source's inode when planned (`dev:ino`). */
  inode: string;
  /** The identity the job left at the target (see Model.ids), once applied. */
  tgtId?: number;
  /** The inode at the target when an undo began (undefined: nothing there to put back). */
  undoInode?: string;
}

interface JobModel {
  id: string;
  acts: Act[];
  /** Directories before the job: undo removes the ones it made, and only those. */
  dirsBefore: string[];
}

interface Model {
  /** The tree when no job is cut short; while one is, the tree from before that apply or undo began. */
  files: Map<string, string>;
  /**
   * Each file's identity (an inode, as the journal records it): kept by a move on one device,
   * new for a copy across devices. Undo moves a file back only while its target holds the
   * identity the job left there, so a file moved on by a later job across devices and back is
   * no longer this job's: it is reported and left in place.
   */
  ids: Map<string, number>;
  nextIdentity: number;
  /** False once an undo left a file in place: the tree can no longer come back to `origin`. */
  exact: boolean;
  plan?: { kind: 'rename' | 'move'; acts: Act[] };
  /** Applied jobs not undone, newest last: undo takes the newest. */
  done: JobModel[];
  interrupted?: { job: JobModel; phase: 'apply' | 'undo' };
  /** Every file where it was created, with its content: the tree once every job is undone. */
  origin: Map<string, string>;
  nextId: number;
}

/** The model after a job's actions (in plan order, each target free when its turn comes). */
function apply(m: Model, acts: Act[]): void {
  for (const a of acts) {
    const id = m.ids.get(a.src)!;
    m.files.delete(a.src);
    m.ids.delete(a.src);
    a.tgtId = a.cross ? m.nextIdentity++ : id;
    m.files.set(a.tgt, a.sha);
    m.ids.set(a.tgt, a.tgtId);
  }
}

/**
 * The model after undoing a job, newest action first: each file goes back while its target still
 * holds the identity the job left there and nothing stands at its original path. Returns the
 * targets it leaves in place, each with the start of the reason undo must give.
 */
function revert(m: Model, acts: Act[]): Map<string, string> {
  const kept = new Map<string, string>();
  for (const a of [...acts].reverse()) {
    const there = m.files.get(a.src);
    if (!m.files.has(a.tgt)) {
      // Gone from the target; a file of its size at the original path is taken as put back before a crash.
      if (there === undefined || SIZE_OF.get(there) !== SIZE_OF.get(a.sha)) kept.set(a.tgt, 'undo: the moved file is gone');
    } else if (m.ids.get(a.tgt) !== a.tgtId) kept.set(a.tgt, 'undo: the file at the target changed');
    else if (there !== undefined) {
      // Undo takes a file of the same content there for its own copy back and removes the target:
      // with another file standing there, that would lose a file. The model never lets it happen.
      expect(there, `undo of ${a.tgt}: another file with the same content stands at ${a.src}`).not.toBe(a.sha);
      kept.set(a.tgt, 'undo: something now stands at the original path');
    } else {
      m.files.delete(a.tgt);
      m.ids.delete(a.tgt);
      m.files.set(a.src, a.sha);
      m.ids.set(a.src, a.cross ? m.nextIdentity++ : a.tgtId!);
    }
  }
  return kept;
}

// ---------------------------------------------------------------------------------------------
// The real system

interface Real {
  A: string;
  B: string;
  T: string;
  db: ReturnType<typeof openStateDb>;
  /** For the CLI's sequences: the environment naming its state database (XDG_CACHE_HOME). */
  env?: NodeJS.ProcessEnv;
  plan?: { kind: 'rename' | 'move'; actions: PlannedMove[] };
  stats: Stats;
}

interface Stats {
  sequences: number;
  /** Invariant checks made: one per command run (and per initial file). */
  checks: number;
  crashes: Record<string, number>;
  applied: number;
  undone: number;
  backToOrigin: number;
  partialUndos: number;
  undoCutShortRefused: number;
  refusedPlans: number;
}

type Place = 'A' | 'A/sub' | 'B' | 'T';
const dirOf = (r: Real, p: Place): string => (p === 'A/sub' ? r.A + '/sub' : r[p]);

/** Thrown by the fault hook at the chosen step, and by every journal and file call after it. */
class Crash extends Error {
  constructor(readonly step: string) {
    super(`crash at ${step}`);
  }
}

/** The "process": a fault hook that crashes at `at`, and a guard that fails every call after. */
function crashSwitch(at?: Resolved): { hook: FaultHook; guard: () => void; fired: () => boolean } {
  let seen = 0;
  let fired = false;
  const guard = (): void => {
    if (fired) throw new Crash('after the crash');
  };
  const hook: FaultHook = (step) => {
    guard();
    if (at !== undefined && step === at.step && ++seen === at.n) {
      fired = true;
      throw new Crash(step);
    }
  };
  return { hook, guard, fired: () => fired };
}

/** `target` with every method call guarded before and after: a dead process does nothing more. */
function guarded<T extends object>(target: T, guard: () => void): T {
  return new Proxy(target, {
    get(t, key) {
      const v = Reflect.get(t, key, t) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        guard();
        let out: unknown;
        try {
          out = (v as (...a: unknown[]) => unknown).apply(t, args);
        } catch (e) {
          guard();
          throw e;
        }
        if (out instanceof Promise)
          return out.then(
            (x: unknown) => {
              guard();
              return x;
            },
            (e: unknown) => {
              guard();
              throw e;
            },
          );
        guard();
        return out;
      };
    },
  });
}

/** Runs an apply, resume or undo as a process that may crash at `at`; the journal is opened afresh, as a new process would. */
async function run(
  r: Real,
  at: Resolved | undefined,
  body: (journal: Journal, ops: LocalFileOps, fault: FaultHook) => Promise<unknown>,
): Promise<{ crashed: boolean }> {
  const sw = crashSwitch(at);
  const journal = guarded<Journal>(new SqliteJournal(r.db), sw.guard);
  const ops = guarded(new LocalFileOps(undefined, at?.step === 'mid-copy' ? sw.hook : undefined), sw.guard);
  try {
    await body(journal, ops, sw.hook);
  } catch (e) {
    if (!(e instanceof Crash)) throw e;
  }
  if (sw.fired()) r.stats.crashes[at!.step] = (r.stats.crashes[at!.step] ?? 0) + 1;
  return { crashed: sw.fired() };
}

/** The files below `dir` as a walk with identities lists them (hidden names skipped, as filer's walk does by default). */
function list(dir: string): FileEntry[] {
  const out: FileEntry[] = [];
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (rel.split('/').some((s) => s.startsWith('.'))) continue;
    const p = path.join(dir, rel);
    const st = fs.lstatSync(p, { bigint: true });
    if (!st.isFile()) continue;
    const size = Number(st.size);
    out.push({
      path: p,
      kind: 'file',
      size,
      mtimeMs: Number(st.mtimeMs),
      dev: Number(st.dev),
      ino: Number(st.ino),
      mtimeSec: Number(st.mtimeNs / 1_000_000_000n),
      mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
    });
  }
  return out.sort((a, b) => comparePaths(a.path, b.path));
}

interface Seen {
  files: Map<string, { sha: string; inode: string }>;
  temps: string[];
  dirs: string[];
}

function scan(r: Real): Seen {
  const seen: Seen = { files: new Map(), temps: [], dirs: [] };
  for (const root of [r.A, r.B, r.T]) {
    for (const rel of fs.readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      const p = path.join(root, rel);
      const st = fs.lstatSync(p);
      if (st.isDirectory()) seen.dirs.push(p);
      else if (TEMP.test(path.basename(p))) seen.temps.push(p);
      else seen.files.set(p, { sha: sha(fs.readFileSync(p)), inode: `${st.dev}:${st.ino}` });
    }
  }
  seen.dirs.sort();
  return seen;
}

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();
const inodeOf = (id: FileIdentity | undefined): string => `${id!.dev}:${id!.ino}`;

/** The invariants, after every command. */
function check(m: Model, r: Real, what: string): void {
  r.stats.checks++;
  const seen = scan(r);
  const acts = m.interrupted?.job.acts ?? [];
  // The battery's pass condition: the multiset of contents, one per inode. A move across devices
  // cut short between placing its copy and removing its source holds one content twice: counted once.
  const perInode = new Map([...seen.files.values()].map((f) => [f.inode, f.sha]));
  const contents = [...perInode.values()];
  for (const a of acts) {
    const s = seen.files.get(a.src);
    const t = seen.files.get(a.tgt);
    if (a.cross && s !== undefined && t !== undefined && s.inode !== t.inode) contents.splice(contents.indexOf(a.sha), 1);
  }
  expect(sorted(contents), `${what}: contents lost or doubled`).toEqual(sorted(m.files.values()));

  if (m.interrupted === undefined) {
    expect(new Map([...seen.files].map(([p, f]) => [p, f.sha])), `${what}: the tree`).toEqual(m.files);
    expect(seen.temps, `${what}: temporary files left`).toEqual([]);
    expect(perInode.size, `${what}: a file with two names`).toBe(seen.files.size);
    return;
  }
  // Cut short: each file of the job is where it was, where it goes, or both — one inode on one
  // device, a complete copy across devices — and nothing else stands at those names (in a chain
  // a→b, b→c the name b may hold either file); everything else is as it was.
  const undoing = m.interrupted.phase === 'undo';
  const moving = acts
    .filter((a) => !undoing || a.undoInode !== undefined)
    .map((a) => ({
      from: undoing ? a.tgt : a.src,
      to: undoing ? a.src : a.tgt,
      inode: undoing ? a.undoInode! : a.inode,
      sha: a.sha,
      cross: a.cross,
    }));
  const holds = (p: string, f: (typeof moving)[number]): boolean => {
    const there = seen.files.get(p);
    if (there === undefined) return false;
    // Across devices the new name holds a copy: the same bytes under another inode.
    return f.cross && p === f.to ? there.sha === f.sha : there.inode === f.inode;
  };
  for (const f of moving) {
    expect(holds(f.from, f) || holds(f.to, f), `${what}: ${f.from} → ${f.to} lost`).toBe(true);
    if (holds(f.from, f)) expect(seen.files.get(f.from)!.sha, `${what}: ${f.from} changed`).toBe(f.sha);
  }
  const involved = new Set(acts.flatMap((a) => [a.src, a.tgt]));
  for (const p of involved)
    if (seen.files.has(p))
      expect(
        moving.some((f) => (p === f.from || p === f.to) && holds(p, f)),
        `${what}: ${p} holds none of the job's files (a copy cut short, or a stranger)`,
      ).toBe(true);
  const others = (files: Iterable<[string, string]>): Map<string, string> => new Map([...files].filter(([p]) => !involved.has(p)));
  expect(others([...seen.files].map(([p, f]) => [p, f.sha])), `${what}: files outside the job`).toEqual(others(m.files));
  for (const t of seen.temps) expect(path.basename(t), `${what}: a stranger's temporary name`).toContain(`.filer-${m.interrupted.job.id}`);
}

// ---------------------------------------------------------------------------------------------
// Commands

type Cmd = fc.AsyncCommand<Model, Real>;
/** Where to crash: the `n`-th time the job reaches a step, `pick` choosing among the steps it passes. */
type Crashpoint = { pick: number; n: number };
type Resolved = { step: FaultStep; n: number };
const ON_ONE_DEVICE: FaultStep[] = ['after-journal', 'after-link', 'before-unlink', 'after-unlink'];
const APPLY_STEPS = FAULT_STEPS.filter((s) => s !== 'mid-undo');

/** The step a crashpoint names for a job: only steps it passes (a move on one device copies nothing). */
function resolve(c: Crashpoint | undefined, phase: 'apply' | 'undo', cross: boolean): Resolved | undefined {
  if (c === undefined) return undefined;
  const steps: FaultStep[] = phase === 'undo' ? (cross ? ['mid-undo', 'mid-copy'] : ['mid-undo']) : cross ? APPLY_STEPS : ON_ONE_DEVICE;
  return { step: steps[c.pick % steps.length], n: c.n };
}
const crashName = (c: Resolved | undefined): string => (c === undefined ? '' : `${c.step}:${c.n}`);
const crossing = (acts: Act[]): boolean => acts.some((a) => a.cross);

class CreateFile implements Cmd {
  constructor(
    readonly where: Place,
    readonly ext: string,
    readonly content: number,
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const p = `${dirOf(r, this.where)}/f${m.nextId++}${this.ext}`;
    fs.writeFileSync(p, CONTENTS[this.content]);
    m.files.set(p, SHAS[this.content]);
    m.ids.set(p, m.nextIdentity++);
    m.origin.set(p, SHAS[this.content]);
    check(m, r, this.toString());
  }
  toString = (): string => `createFile(${this.where}, ${this.ext || 'no ext'}, #${this.content})`;
}

/** Stores a conflict-free plan for the next apply (with conflicts, filer changes nothing and exits 3). */
function keepPlan(
  m: Model,
  r: Real,
  kind: 'rename' | 'move',
  actions: PlannedMove[],
  conflicts: number,
  cross: (a: PlannedMove) => boolean,
): void {
  m.plan = undefined;
  r.plan = undefined;
  if (conflicts > 0 || actions.length === 0) {
    if (conflicts > 0) r.stats.refusedPlans++;
    return;
  }
  const acts = actions.map((a) => {
    const s = m.files.get(a.source);
    expect(s, `the plan moves ${a.source}, which is not in the model`).toBeDefined();
    return { src: a.source, tgt: a.target, sha: s!, cross: cross(a), inode: inodeOf(a.sourceId) };
  });
  // A plan never aims two files at one name, nor at a file that stays.
  const sources = new Set(acts.map((a) => a.src));
  expect(new Set(acts.map((a) => a.tgt)).size).toBe(acts.length);
  for (const a of acts) expect(m.files.has(a.tgt) && !sources.has(a.tgt), `${a.tgt} exists and stays`).toBe(false);
  m.plan = { kind, acts };
  r.plan = { kind, actions };
}

const TEMPLATES = [
  'k_{name}',
  '{stem}_x{ext}',
  'r{counter:3}{ext}',
  '{counter:2}{ext}',
  '{mtime:YYYY}/{name}',
  'd/{name}',
  '{parent}-{name}',
  '{name}',
  '../{name}',
];

class PlanRename implements Cmd {
  constructor(
    readonly template: string,
    readonly onConflict: OnConflict,
  ) {}
  check = (m: Model): boolean => m.interrupted === undefined;
  async run(m: Model, r: Real): Promise<void> {
    const named = await nameFiles(list(r.A), { kind: 'template', template: compileTemplate(this.template) });
    const plan = planLocalMoves(renameRequests(named, [r.A]), this.onConflict);
    keepPlan(m, r, 'rename', plan.actions, plan.conflicts.length, () => false);
    check(m, r, this.toString());
  }
  toString = (): string => `planRename(${this.template}, ${this.onConflict})`;
}

class PlanMove implements Cmd {
  constructor(
    readonly from: Place,
    readonly to: Place,
    readonly onConflict: OnConflict,
  ) {}
  check = (m: Model): boolean => m.interrupted === undefined && this.from !== this.to;
  async run(m: Model, r: Real): Promise<void> {
    const [from, to] = [dirOf(r, this.from), dirOf(r, this.to)];
    if (isInside(to, from)) return; // filer refuses a --dest inside the root
    const requests = list(from).map((e) => ({
      source: e.path,
      target: transferTarget(to, false, from, e.path),
      size: e.size ?? 0,
      within: to,
      ...sourceIdOf(e),
    }));
    const plan = planLocalMoves(requests, this.onConflict);
    const devOf = (p: string): number => fs.statSync(p).dev;
    keepPlan(m, r, 'move', plan.actions, plan.conflicts.length, (a) => devOf(a.source) !== devOf(to));
    check(m, r, this.toString());
  }
  toString = (): string => `planMove(${this.from} → ${this.to}, ${this.onConflict})`;
}

/** Apply the plan: journal it, then applyJob — crashing at `at` when given (crashAt(step)). */
class Apply implements Cmd {
  constructor(readonly at?: Crashpoint) {}
  check = (m: Model): boolean => m.plan !== undefined && m.interrupted === undefined;
  async run(m: Model, r: Real): Promise<void> {
    const plan = r.plan!;
    const job = new SqliteJournal(r.db).create(
      plan.kind,
      plan.actions.map((a) => ({ source: a.source, target: a.target, size: a.size, overwrite: false, sourceId: a.sourceId })),
      { onConflict: 'fail', verify: false },
    );
    const jm: JobModel = { id: job.id, acts: m.plan!.acts, dirsBefore: scan(r).dirs };
    m.plan = undefined;
    r.plan = undefined;
    this.step = resolve(this.at, 'apply', crossing(jm.acts));
    const { crashed } = await run(r, this.step, (journal, ops, fault) => applyJob(journal.get(job.id)!, journal, ops, { fault }));
    if (crashed) m.interrupted = { job: jm, phase: 'apply' };
    else finishApply(m, r, jm);
    check(m, r, this.toString());
  }
  private step?: Resolved;
  toString = (): string => (this.at === undefined ? 'apply' : `crashAt(${crashName(this.step) || JSON.stringify(this.at)})`);
}

function finishApply(m: Model, r: Real, jm: JobModel): void {
  const job = new SqliteJournal(r.db).get(jm.id)!;
  expect(job.state, `job ${jm.id}: ${JSON.stringify(new SqliteJournal(r.db).actions(jm.id).filter((a) => a.state !== 'done'))}`).toBe(
    'completed',
  );
  expect(job.counts.done).toBe(jm.acts.length);
  apply(m, jm.acts);
  m.done.push(jm);
  m.interrupted = undefined;
  r.stats.applied++;
}

/** `filer jobs resume`: applyJob again on the journal of a job cut short (crashing again at `at` when given). */
class Resume implements Cmd {
  constructor(readonly at?: Crashpoint) {}
  check = (m: Model): boolean => m.interrupted?.phase === 'apply';
  async run(m: Model, r: Real): Promise<void> {
    const jm = m.interrupted!.job;
    this.step = resolve(this.at, 'apply', crossing(jm.acts));
    const { crashed } = await run(r, this.step, (journal, ops, fault) =>
      applyJob(journal.get(jm.id)!, journal, ops, { retryFailed: true, fault }),
    );
    if (!crashed) finishApply(m, r, jm);
    check(m, r, this.toString());
  }
  private step?: Resolved;
  toString = (): string => `resume${this.at === undefined ? '' : `, crashing at ${crashName(this.step) || JSON.stringify(this.at)}`}`;
}

/** Starts an undo in the model: the newest job, or the one whose undo was cut short. */
function beginUndo(m: Model, r: Real): JobModel {
  m.plan = undefined; // a plan made before the undo names files that moved since
  r.plan = undefined;
  const jm = m.interrupted?.job ?? m.done[m.done.length - 1];
  if (m.interrupted === undefined) {
    m.done.pop();
    // While an undo is cut short, the model holds the tree from before it: the job's targets.
    m.interrupted = { job: jm, phase: 'undo' };
    const seen = scan(r);
    for (const a of jm.acts) a.undoInode = seen.files.get(a.tgt)?.inode;
  }
  return jm;
}

/** An undo ran to its end: every file back but those the model says it must leave (and the journal names). */
function finishUndo(m: Model, r: Real, jm: JobModel, what: string): void {
  const kept = revert(m, jm.acts);
  m.interrupted = undefined;
  const journal = new SqliteJournal(r.db);
  const left = journal.actions(jm.id).filter((a) => a.state !== 'undone');
  expect(left.map((a) => a.target).sort(), `${what}: files left in place`).toEqual([...kept.keys()].sort());
  for (const a of left) expect(a.reason, a.target).toMatch(new RegExp('^' + kept.get(a.target)!));
  expect(journal.get(jm.id)!.state).toBe(kept.size === 0 ? 'undone' : 'failed');
  if (kept.size === 0) {
    r.stats.undone++;
    expect(scan(r).dirs, `${what}: the directories the job made are gone`).toEqual(jm.dirsBefore);
  } else {
    r.stats.partialUndos++;
    m.exact = false;
  }
}

/** After an undo: the invariants, and once every job is undone, the tree as its files were created. */
function checkUndone(m: Model, r: Real, what: string): void {
  check(m, r, what);
  if (m.done.length === 0 && m.interrupted === undefined && m.exact) {
    // Wherever jobs took the files since, they are back where they were created.
    const now = new Map([...scan(r).files].map(([p, f]) => [p, f.sha]));
    expect(now, `${what}: every job undone, the tree as created`).toEqual(m.origin);
    r.stats.backToOrigin++;
  }
}

/** `filer jobs undo` of the newest job (or of one whose undo was cut short), crashing at `at` when given. */
class Undo implements Cmd {
  constructor(readonly at?: Crashpoint) {}
  check = (m: Model): boolean => (m.interrupted === undefined ? m.done.length > 0 : m.interrupted.phase === 'undo');
  async run(m: Model, r: Real): Promise<void> {
    const jm = beginUndo(m, r);
    this.step = resolve(this.at, 'undo', crossing(jm.acts));
    const { crashed } = await run(r, this.step, (journal, ops, fault) => undoJob(journal.get(jm.id)!, journal, ops, { fault }));
    if (!crashed) finishUndo(m, r, jm, this.toString());
    checkUndone(m, r, this.toString());
  }
  private step?: Resolved;
  toString = (): string => `undo${this.at === undefined ? '' : `, crashing at ${crashName(this.step) || JSON.stringify(this.at)}`}`;
}

/**
 * `filer jobs undo` of a job whose apply was cut short (no resume first). Either answer is
 * sound: refuse (a FilerError, nothing changed) or put back exactly what the apply did.
 */
class UndoCutShort implements Cmd {
  check = (m: Model): boolean => m.interrupted?.phase === 'apply';
  async run(m: Model, r: Real): Promise<void> {
    const jm = m.interrupted!.job;
    let refused: unknown;
    await run(r, undefined, async (journal, ops) => {
      try {
        await undoJob(journal.get(jm.id)!, journal, ops);
      } catch (e) {
        refused = e;
      }
    });
    if (refused !== undefined) {
      expect(refused).toBeInstanceOf(FilerError);
      r.stats.undoCutShortRefused++;
    } else {
      // Put back: the tree from before the apply (the model's), the job undone.
      m.interrupted = undefined;
      expect(new SqliteJournal(r.db).get(jm.id)!.state).toBe('undone');
      expect(scan(r).dirs, `${this.toString()}: the directories the job made are gone`).toEqual(jm.dirsBefore);
    }
    check(m, r, this.toString());
  }
  toString = (): string => 'undo (of an apply cut short)';
}

const place = fc.constantFrom<Place>('A', 'A/sub', 'B', 'T');
const crashpoint = fc.record({ pick: fc.nat(), n: fc.constantFrom(1, 1, 2, 3) });
const policy = fc.constantFrom<OnConflict>('fail', 'suffix');

const commands = [
  fc.tuple(place, fc.constantFrom('.txt', '.jpg', ''), fc.nat(CONTENTS.length - 1)).map(([w, e, c]) => new CreateFile(w, e, c)),
  fc.tuple(fc.constantFrom(...TEMPLATES), policy).map(([t, p]) => new PlanRename(t, p)),
  fc.tuple(place, fc.constantFrom<Place>('A', 'B', 'T'), policy).map(([f, t, p]) => new PlanMove(f, t, p)),
  // Moves across devices once more: they pass every copying step.
  fc
    .tuple(fc.constantFrom<[Place, Place]>(['A', 'T'], ['A/sub', 'T'], ['B', 'T'], ['T', 'A'], ['T', 'B']), policy)
    .map(([[f, t], p]) => new PlanMove(f, t, p)),
  // Weighted (fast-check picks among these evenly): applying and crashing are what this is about.
  fc.constant(new Apply()),
  crashpoint.map((c) => new Apply(c)),
  crashpoint.map((c) => new Apply(c)),
  crashpoint.map((c) => new Apply(c)),
  fc.constant(new Resume()),
  crashpoint.map((c) => new Resume(c)),
  fc.constant(new Undo()),
  fc.constant(new UndoCutShort()),
  crashpoint.map((c) => new Undo(c)),
];

/** Counters a run prints at its end, all at zero. */
const newStats = (): Stats => ({
  sequences: 0,
  checks: 0,
  crashes: {},
  applied: 0,
  undone: 0,
  backToOrigin: 0,
  partialUndos: 0,
  undoCutShortRefused: 0,
  refusedPlans: 0,
});

const initialFiles = fc.array(fc.tuple(place, fc.nat(CONTENTS.length - 1)), { minLength: 1, maxLength: 5 });

describe('battery 12: plan, apply, crash, resume and undo never lose or double a file (model-based)', () => {
  it(`${SEQUENCES} sequences of commands, in-process crashes`, async () => {
    const stats = newStats();
    let k = 0;
    await fc.assert(
      fc.asyncProperty(initialFiles, fc.commands(commands, { maxCommands: 60, size: 'large' }), async (initial, cmds) => {
        const dir = path.join(dev1, `s${k}`);
        const T = path.join(dev2, `s${k++}`, 'T');
        for (const d of [path.join(dir, 'A/sub'), path.join(dir, 'B'), T]) fs.mkdirSync(d, { recursive: true });
        const db = openStateDb(path.join(dir, 'state.db'));
        try {
          const r: Real = { A: path.join(dir, 'A'), B: path.join(dir, 'B'), T, db, stats };
          const m: Model = { files: new Map(), ids: new Map(), nextIdentity: 0, exact: true, done: [], origin: new Map(), nextId: 0 };
          for (const [where, content] of initial) await new CreateFile(where, '.txt', content).run(m, r);
          stats.sequences++;
          await fc.asyncModelRun(() => ({ model: m, real: r }), cmds);
        } finally {
          db.close();
          fs.rmSync(dir, { recursive: true, force: true });
          fs.rmSync(path.dirname(T), { recursive: true, force: true });
        }
      }),
      { seed: SEED, numRuns: SEQUENCES, endOnFailure: true },
    );
    console.log(`battery 12 (in-process): ${JSON.stringify(stats)}`);
    // Not vacuous: jobs were applied, crashed at every step of apply and undo, resumed and undone.
    expect(stats.applied).toBeGreaterThan(50);
    expect(stats.backToOrigin).toBeGreaterThan(10);
    for (const step of FAULT_STEPS) expect(stats.crashes[step] ?? 0, `crashes at ${step}`).toBeGreaterThan(0);
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------
// The same model, driving the built CLI: crashes are real SIGKILLs at FILER_FAULT's steps, so
// nothing in the process cleans up after them (half-written temporary files stay for resume).

const CLI_SEQUENCES = 12;

async function filer(r: Real, args: string[], at?: Resolved): Promise<ProcessResult> {
  const env = at === undefined ? r.env : { ...r.env, FILER_FAULT: crashName(at) };
  const res = await runFiler(args, { env, timeoutMs: 120_000 });
  if (res.signal === 'SIGKILL') {
    expect(res.stderr).toContain(`fault point ${crashName(at)} reached`);
    r.stats.crashes[at!.step] = (r.stats.crashes[at!.step] ?? 0) + 1;
  }
  return res;
}

/** `filer rename|move … --apply`, perhaps killed at `at`; the plan is read back from the journal. */
class CliBatch implements Cmd {
  constructor(
    readonly kind: 'rename' | 'move',
    readonly what: { template: string } | { from: Place; to: Place },
    readonly onConflict: OnConflict,
    readonly at?: Crashpoint,
  ) {}
  check = (m: Model): boolean => m.interrupted === undefined && ('template' in this.what || this.what.from !== this.what.to);
  async run(m: Model, r: Real): Promise<void> {
    let args: string[];
    let cross = false;
    if ('template' in this.what) args = ['rename', r.A, '--to', this.what.template];
    else {
      const [from, to] = [dirOf(r, this.what.from), dirOf(r, this.what.to)];
      if (isInside(to, from)) return;
      args = ['move', from, '--dest', to];
      cross = fs.statSync(from).dev !== fs.statSync(to).dev;
    }
    const journal = new SqliteJournal(r.db);
    const known = new Set(journal.list(1000).map((j) => j.id));
    const dirsBefore = scan(r).dirs;
    this.step = resolve(this.at, 'apply', cross);
    const res = await filer(r, [...args, '--on-conflict', this.onConflict, '--apply'], this.step);
    const job = journal.list(1000).find((j) => !known.has(j.id));
    if (job === undefined) {
      // Conflicts (exit 3) or nothing to do: nothing was journaled, nothing changed.
      expect([0, 3], res.stderr).toContain(res.code);
      if (res.code === 3) r.stats.refusedPlans++;
    } else {
      const acts = journal
        .actions(job.id)
        .map((a) => ({ src: a.source, tgt: a.target, sha: m.files.get(a.source)!, cross, inode: inodeOf(a.sourceId) }));
      for (const a of acts) expect(a.sha, `${a.src} is not in the model`).toBeDefined();
      const jm: JobModel = { id: job.id, acts, dirsBefore };
      if (res.signal === 'SIGKILL') m.interrupted = { job: jm, phase: 'apply' };
      else {
        expect(res.code, res.stderr).toBe(0);
        finishApply(m, r, jm);
      }
    }
    check(m, r, this.toString());
  }
  toString = (): string =>
    `filer ${this.kind} ${'template' in this.what ? this.what.template : `${this.what.from} → ${this.what.to}`} --on-conflict ${this.onConflict}` +
    (this.at === undefined ? '' : `, killed at ${crashName(this.step) || JSON.stringify(this.at)}`);
  private step?: Resolved;
}

class CliResume implements Cmd {
  constructor(readonly at?: Crashpoint) {}
  check = (m: Model): boolean => m.interrupted?.phase === 'apply';
  async run(m: Model, r: Real): Promise<void> {
    const jm = m.interrupted!.job;
    this.step = resolve(this.at, 'apply', crossing(jm.acts));
    const res = await filer(r, ['jobs', 'resume', jm.id], this.step);
    if (res.signal !== 'SIGKILL') {
      expect(res.code, res.stderr).toBe(0);
      finishApply(m, r, jm);
    }
    check(m, r, this.toString());
  }
  private step?: Resolved;
  toString = (): string =>
    `filer jobs resume${this.at === undefined ? '' : `, killed at ${crashName(this.step) || JSON.stringify(this.at)}`}`;
}

class CliUndo implements Cmd {
  constructor(readonly at?: Crashpoint) {}
  check = (m: Model): boolean => m.done.length > 0 || m.interrupted !== undefined;
  async run(m: Model, r: Real): Promise<void> {
    if (m.interrupted?.phase === 'apply') {
      // Cut short while applying: refused, nothing changed (resume first).
      this.refused = true;
      const res = await filer(r, ['jobs', 'undo', m.interrupted.job.id]);
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr).toContain('resume it first');
      r.stats.undoCutShortRefused++;
      check(m, r, `${this.toString()} (refused)`);
      return;
    }
    const jm = beginUndo(m, r);
    this.step = resolve(this.at, 'undo', crossing(jm.acts));
    const res = await filer(r, ['jobs', 'undo', jm.id], this.step);
    if (res.signal !== 'SIGKILL') {
      finishUndo(m, r, jm, this.toString());
      expect(res.code, res.stderr).toBe(m.exact ? 0 : 1);
    }
    checkUndone(m, r, this.toString());
  }
  private step?: Resolved;
  private refused = false;
  toString = (): string =>
    this.refused
      ? 'filer jobs undo (of a job cut short: refused)'
      : `filer jobs undo${this.at === undefined ? '' : `, killed at ${crashName(this.step)}`}`;
}

const killpoint = fc.option(crashpoint, { freq: 2, nil: undefined });
const cliCommands = [
  fc.tuple(place, fc.constantFrom('.txt', '.jpg', ''), fc.nat(CONTENTS.length - 1)).map(([w, e, c]) => new CreateFile(w, e, c)),
  fc.tuple(fc.constantFrom(...TEMPLATES), policy, killpoint).map(([t, p, at]) => new CliBatch('rename', { template: t }, p, at)),
  fc
    .tuple(place, fc.constantFrom<Place>('A', 'B', 'T', 'T'), policy, killpoint)
    .map(([from, to, p, at]) => new CliBatch('move', { from, to }, p, at)),
  killpoint.map((at) => new CliResume(at)),
  killpoint.map((at) => new CliUndo(at)),
];

describe('battery 12 through the CLI, killed with SIGKILL at FILER_FAULT steps (model-based)', () => {
  it(`${CLI_SEQUENCES} sequences`, async () => {
    const stats = newStats();
    let k = 0;
    await fc.assert(
      fc.asyncProperty(initialFiles, fc.commands(cliCommands, { maxCommands: 16, size: 'max' }), async (initial, cmds) => {
        const dir = path.join(dev1, `cli${k}`);
        const T = path.join(dev2, `cli${k++}`, 'T');
        for (const d of [path.join(dir, 'A/sub'), path.join(dir, 'B'), T]) fs.mkdirSync(d, { recursive: true });
        const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
        fs.mkdirSync(path.dirname(defaultStatePath(env)), { recursive: true });
        const db = openStateDb(defaultStatePath(env));
        try {
          const r: Real = { A: path.join(dir, 'A'), B: path.join(dir, 'B'), T, db, env, stats };
          const m: Model = { files: new Map(), ids: new Map(), nextIdentity: 0, exact: true, done: [], origin: new Map(), nextId: 0 };
          for (const [where, content] of initial) await new CreateFile(where, '.txt', content).run(m, r);
          stats.sequences++;
          await fc.asyncModelRun(() => ({ model: m, real: r }), cmds);
        } finally {
          db.close();
          fs.rmSync(dir, { recursive: true, force: true });
          fs.rmSync(path.dirname(T), { recursive: true, force: true });
        }
      }),
      // Unbiased: with so few runs, fast-check's bias towards small values would make them all short.
      { seed: SEED, numRuns: CLI_SEQUENCES, endOnFailure: true, unbiased: true },
    );
    console.log(`battery 12 (CLI, SIGKILL): ${JSON.stringify(stats)}`);
    expect(stats.applied).toBeGreaterThan(0);
    expect(Object.values(stats.crashes).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  }, 600_000);
});

describe('battery 12: the cases the model found, through the CLI', () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv, fault?: string): Promise<ProcessResult> =>
    runFiler(args, { env: fault === undefined ? env : { ...env, FILER_FAULT: fault }, timeoutMs: 120_000 });
  const tree = (dir: string): Record<string, string> =>
    Object.fromEntries(
      fs
        .readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((rel) => fs.lstatSync(path.join(dir, rel)).isFile())
        .sort()
        .map((rel) => [rel, `${fs.readFileSync(path.join(dir, rel), 'utf8')} #${fs.statSync(path.join(dir, rel)).ino}`]),
    );
  const onlyJob = async (env: NodeJS.ProcessEnv): Promise<string> => (await cli(['jobs', 'list'], env)).stdout.split(' ')[0];

  it('undo of a rename killed between link and unlink is refused (resume first); resume then undo restore the tree', async () => {
    const dir = fs.mkdtempSync(path.join(dev1, 'found-undo-'));
    const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
    const r = path.join(dir, 'r');
    fs.mkdirSync(r);
    fs.writeFileSync(path.join(r, 'a.txt'), 'a');
    fs.writeFileSync(path.join(r, 'b.txt'), 'b');
    const before = tree(r);
    expect((await cli(['rename', r, '--to', 'd/{name}', '--apply'], env, 'after-link:1')).signal).toBe('SIGKILL');
    const cut = tree(r);
    expect(Object.keys(cut)).toEqual(['a.txt', 'b.txt', 'd/a.txt']); // one inode, two names
    const id = await onlyJob(env);
    const undo = await cli(['jobs', 'undo', id], env);
    expect(undo.code, undo.stderr).toBe(2);
    expect(undo.stderr).toContain(`job ${id} was cut short while it was applied`);
    expect(undo.stderr).toContain(`resume it first (\`filer jobs resume ${id}\`)`);
    expect(tree(r)).toEqual(cut);
    expect((await cli(['jobs', 'resume', id], env)).code).toBe(0);
    expect((await cli(['jobs', 'undo', id], env)).code).toBe(0);
    expect(tree(r)).toEqual(before);
    expect(fs.existsSync(path.join(r, 'd'))).toBe(false);
  });

  it('a move across devices killed after placing a copy, then killed again right after the resume removed the source, still resumes and undoes', async () => {
    const dir = fs.mkdtempSync(path.join(dev1, 'found-resume-'));
    const env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
    const src = path.join(dir, 'src');
    const dest = path.join(fs.mkdtempSync(path.join(dev2, 'found-resume-')), 'd');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'a.txt'), 'hello');
    expect((await cli(['move', src, '--dest', dest, '--apply'], env, 'after-link:1')).signal).toBe('SIGKILL');
    const id = await onlyJob(env);
    expect((await cli(['jobs', 'resume', id], env, 'after-unlink:1')).signal).toBe('SIGKILL');
    expect([fs.readdirSync(src), fs.readdirSync(dest)]).toEqual([[], ['a.txt']]);
    const resume = await cli(['jobs', 'resume', id], env);
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stderr).toContain(`job ${id} completed: 1 done`);
    const undo = await cli(['jobs', 'undo', id], env);
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stderr).toContain('undone: 0 done, 1 undone');
    expect(fs.readFileSync(path.join(src, 'a.txt'), 'utf8')).toBe('hello');
    expect(fs.existsSync(dest)).toBe(false);
  });
});
