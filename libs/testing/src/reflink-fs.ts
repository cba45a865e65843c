import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

// File systems of a test's own, on a loop device over a sparse image file: XFS made with
// `-m reflink=1` (shared extents, FIDEDUPERANGE) or ext4 (no reflinks), so that a test of reflinks
// does not depend on what the machine's temporary directory happens to be. Root only.

/** The kinds mountLoopFs makes: XFS with reflinks, or ext4 (which has none). */
export type LoopFsKind = 'xfs-reflink' | 'ext4';

/** A mounted loop file system: its directory, the loop device and image behind it, and its removal. */
export interface LoopFs {
  dir: string;
  device: string;
  image: string;
  /** Unmounts (lazily when still busy after 2 s), detaches the loop device, removes the image. Idempotent. */
  cleanup(): void;
}

/** mkfs.xfs refuses images under 300 MB (xfsprogs ≥ 5.19); the image is sparse, so only what is written costs disk. */
const SIZES_MIB: Record<LoopFsKind, number> = { 'xfs-reflink': 320, ext4: 32 };
const MKFS: Record<LoopFsKind, [string, string[]]> = {
  'xfs-reflink': ['mkfs.xfs', ['-q', '-m', 'reflink=1']],
  ext4: ['mkfs.ext4', ['-q', '-F']],
};
/** The Debian package of each mkfs (scripts/install-test-tools.sh installs them). */
const PACKAGES: Record<LoopFsKind, string> = { 'xfs-reflink': 'xfsprogs', ext4: 'e2fsprogs' };

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * The tools run without LD_PRELOAD: under scripts/native-sanitizers.sh the ASan runtime is
 * preloaded into every process for node's sake, and mkfs or mount are not what it checks.
 */
function run(cmd: string, args: readonly string[]): string {
  const env = { ...process.env };
  delete env.LD_PRELOAD;
  return execFileSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function hasCommand(cmd: string): boolean {
  return ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((d) => fs.existsSync(path.join(d, cmd)));
}

/**
 * Why a loop file system of `kind` cannot be mounted here (not root, no loop devices, its mkfs not
 * installed), or undefined when nothing known stands in the way (mounting may still fail: an
 * unprivileged container, say; mountLoopFs then throws with the tool's message).
 */
export function loopFsUnavailable(kind: LoopFsKind = 'xfs-reflink'): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a loop file system needs root';
  if (!fs.existsSync('/dev/loop-control')) return 'no loop devices here (/dev/loop-control is missing)';
  const mkfs = MKFS[kind][0];
  if (!hasCommand(mkfs)) return `${mkfs} is not installed (Debian package ${PACKAGES[kind]}; scripts/install-test-tools.sh installs it)`;
  return undefined;
}

/**
 * Makes a sparse image in a fresh temporary directory, formats it as `kind`, attaches it to a free
 * loop device and mounts it. Whatever step fails, what the earlier ones made is undone before the
 * error (naming the step and the tool's message) is thrown.
 */
export function mountLoopFs(kind: LoopFsKind = 'xfs-reflink'): LoopFs {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `filer-${kind}-`));
  const image = path.join(base, 'fs.img');
  const dir = path.join(base, 'mnt');
  let device = '';
  let mounted = false;
  let done = false;
  const cleanup = (): void => {
    if (done) return;
    done = true;
    if (mounted) unmount(dir);
    if (device !== '') run('losetup', ['-d', device]);
    fs.rmSync(base, { recursive: true, force: true });
  };
  let step = 'create the image';
  try {
    fs.writeFileSync(image, '');
    fs.truncateSync(image, SIZES_MIB[kind] << 20);
    fs.mkdirSync(dir);
    step = MKFS[kind][0];
    run(MKFS[kind][0], [...MKFS[kind][1], image]);
    step = 'losetup';
    device = run('losetup', ['--find', '--show', image]).trim();
    step = 'mount';
    run('mount', [device, dir]);
    mounted = true;
    return { dir, device, image, cleanup };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    try {
      cleanup();
    } catch {
      // the first failure is the one to report
    }
    throw new Error(`cannot mount a ${kind} loop file system (${step}): ${(err.stderr || err.message).trim()}`, { cause: e });
  }
}

/** Unmounts `dir`, waiting out a busy mount for 2 s, then detaching it lazily. */
function unmount(dir: string): void {
  for (let i = 0; i < 20; i++) {
    try {
      run('umount', [dir]);
      return;
    } catch {
      Atomics.wait(pause, 0, 0, 100);
    }
  }
  run('umount', ['-l', dir]);
}

/** Runs `fn` on a freshly mounted loop file system, which is removed afterwards, whether `fn` succeeds or not. */
export async function withLoopFs<T>(kind: LoopFsKind, fn: (dir: string) => Promise<T> | T): Promise<T> {
  const lfs = mountLoopFs(kind);
  try {
    return await fn(lfs.dir);
  } finally {
    lfs.cleanup();
  }
}

/** One extent as FIEMAP reports it (filefrag -v), in file-system blocks, and its flags (`shared`, `last`…). */
export interface Extent {
  logical: number;
  physical: number;
  length: number;
  flags: string[];
}

/** A file's extents, read with `filefrag -v -s` (the file is synced first, so none is still delayed). */
export function fileExtents(file: string): Extent[] {
  const out = run('filefrag', ['-v', '-s', file]);
  const extents: Extent[] = [];
  for (const line of out.split('\n')) {
    // "   0:        0..   10239:         24..     10263:  10240:             last,shared,eof"
    const m = /^\s*\d+:\s*(\d+)\.\.\s*\d+:\s*(\d+)\.\.\s*\d+:\s*(\d+):\s*(?:\d+:)?\s*(\S*)\s*$/.exec(line);
    if (m) extents.push({ logical: Number(m[1]), physical: Number(m[2]), length: Number(m[3]), flags: m[4] ? m[4].split(',') : [] });
  }
  return extents;
}

/** XFS with reflinks (mkfs.xfs -m reflink=1) on a loop device: see mountLoopFs. */
export const mountReflinkFs = (): LoopFs => mountLoopFs('xfs-reflink');

/** Runs `fn` on a fresh XFS with reflinks, removed afterwards: see withLoopFs. */
export const withReflinkFs = <T>(fn: (dir: string) => Promise<T> | T): Promise<T> => withLoopFs('xfs-reflink', fn);

/**
 * For a test that needs a loop file system of `kind`: returns when one can be mounted here. When
 * not, it fails the test on CI (CI=true: the machine is meant to run it) with the reason, and
 * elsewhere skips it with the reason as its note, which the run lists (scripts/skipped-tests-reporter.mjs).
 */
export function needLoopFs(ctx: { skip(note?: string): void }, kind: LoopFsKind = 'xfs-reflink'): void {
  const why = loopFsUnavailable(kind);
  if (why === undefined) return;
  if (process.env.CI === 'true') throw new Error(`this test needs a ${kind} loop file system, and CI must run it: ${why}`);
  ctx.skip(`no ${kind} loop file system: ${why}`);
}
