import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listJobIds, runFiler, showJob, type ProcessResult } from '@filer/testing';

/**
 * Battery item 24, dangling-symlink write: `ROOT/out -> OUTSIDE/new.txt` with the target absent.
 * A copy (or move) whose target is `ROOT/out` — a file named `out` copied into ROOT, or ROOT/out
 * given as --dest — is a conflict or an error, and OUTSIDE/new.txt never comes into being:
 * with the default policy, with --on-conflict overwrite, and when the link appears between the
 * plan and the apply.
 */

let base: string;
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-battery-24-'));
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

interface Case {
  src: string;
  root: string;
  outside: string;
  link: string;
  env: NodeJS.ProcessEnv;
}

function newCase(): Case {
  const dir = fs.mkdtempSync(path.join(base, 'case-'));
  const c = {
    src: path.join(dir, 'src'),
    root: path.join(dir, 'ROOT'),
    outside: path.join(dir, 'OUTSIDE'),
    link: path.join(dir, 'ROOT/out'),
    env: { XDG_CACHE_HOME: path.join(dir, 'cache') },
  };
  fs.mkdirSync(c.src);
  fs.writeFileSync(path.join(c.src, 'out'), 'the source named out');
  fs.writeFileSync(path.join(c.src, 'other.txt'), 'another file');
  fs.mkdirSync(c.root);
  fs.mkdirSync(c.outside);
  return c;
}

const plantLink = (c: Case): void => fs.symlinkSync(path.join(c.outside, 'new.txt'), c.link);

/** Nothing was written through the link: it is still the same dangling link, and OUTSIDE is empty. */
function expectNothingThrough(c: Case): void {
  expect(fs.readlinkSync(c.link)).toBe(path.join(c.outside, 'new.txt'));
  expect(fs.existsSync(path.join(c.outside, 'new.txt'))).toBe(false);
  expect(fs.readdirSync(c.outside)).toEqual([]);
}

const filer = (args: string[], c: Case, extra: NodeJS.ProcessEnv = {}): Promise<ProcessResult> =>
  runFiler(args, { env: { ...c.env, ...extra }, timeoutMs: 60_000 });

const planOf = (r: ProcessResult): Record<string, unknown>[] =>
  r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('battery 24: a dangling symlink at the target is never written through', () => {
  for (const kind of ['copy', 'move'] as const) {
    it(`${kind}, default policy: the plan names a target-exists conflict, exit 3, nothing changes`, async () => {
      const c = newCase();
      plantLink(c);
      const r = await filer([kind, c.src, '--dest', c.root, '--apply', '--format', 'ndjson'], c);
      expect(r.code, r.stderr).toBe(3);
      expect(planOf(r).filter((l) => l.action === 'conflict')).toEqual([
        expect.objectContaining({ kind: 'target-exists', source: path.join(c.src, 'out'), target: c.link }),
      ]);
      expectNothingThrough(c);
      expect(fs.readFileSync(path.join(c.src, 'out'), 'utf8')).toBe('the source named out');
      expect(fs.readdirSync(c.root)).toEqual(['out']);
    });

    it(`${kind}, --on-conflict overwrite: that file fails (the target is a link), the other is done, exit 1`, async () => {
      const c = newCase();
      plantLink(c);
      const r = await filer([kind, c.src, '--dest', c.root, '--apply', '--on-conflict', 'overwrite'], c);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`${path.join(c.src, 'out')} → ${c.link}: the target is a symbolic link: filer never writes through`);
      expectNothingThrough(c);
      expect(fs.readFileSync(path.join(c.src, 'out'), 'utf8')).toBe('the source named out');
      expect(fs.readFileSync(path.join(c.root, 'other.txt'), 'utf8')).toBe('another file');
      const [id] = await listJobIds({ env: c.env });
      const { actions } = await showJob(id, { env: c.env });
      expect(actions.map((a) => [path.basename(a.source), a.state])).toEqual([
        ['other.txt', 'done'],
        ['out', 'failed'],
      ]);
    });

    for (const policy of ['fail', 'overwrite']) {
      it(`${kind}, --on-conflict ${policy}: a link planted between the plan and the apply fails that file, exit 1`, async () => {
        const c = newCase();
        const killed = await filer([kind, c.src, '--dest', c.root, '--apply', '--on-conflict', policy], c, {
          FILER_FAULT: 'after-journal:1',
        });
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        plantLink(c);
        const [id] = await listJobIds({ env: c.env });
        const r = await filer(['jobs', 'resume', id], c);
        expect(r.code, r.stderr).toBe(1);
        expectNothingThrough(c);
        expect(fs.readFileSync(path.join(c.src, 'out'), 'utf8')).toBe('the source named out');
        const { actions } = await showJob(id, { env: c.env });
        const out = actions.find((a) => path.basename(a.source) === 'out')!;
        expect(out.state).toBe('failed');
        // On one device a move's hard link meets the name (EEXIST); otherwise the check before acting sees the link.
        expect(out.reason).toMatch(/^(?:EEXIST: |the target is a symbolic link)/);
        expect(actions.find((a) => path.basename(a.source) === 'other.txt')!.state).toBe('done');
      });
    }

    it(`${kind}: --dest that is (or runs through) a dangling symlink is refused before anything runs, exit 2`, async () => {
      const c = newCase();
      plantLink(c);
      for (const dest of [c.link, path.join(c.link, 'deeper')]) {
        const r = await filer([kind, c.src, '--dest', dest, '--apply'], c);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toBe(
          `filer: --dest: ${c.link} is a symbolic link to ${path.join(c.outside, 'new.txt')}, which does not exist: ` +
            `filer never creates a destination through a link (create its target first, or name the real directory)\n`,
        );
        expect(r.stdout).toBe('');
        expectNothingThrough(c);
      }
      expect(await listJobIds({ env: c.env })).toEqual([]);
      expect(fs.readdirSync(c.src).sort()).toEqual(['other.txt', 'out']);
    });
  }

  it('a --dest that is a symlink to an existing directory is still followed (the usual ~/backup -> /mnt/disk case)', async () => {
    const c = newCase();
    fs.mkdirSync(path.join(c.outside, 'new.txt'));
    plantLink(c);
    const r = await filer(['copy', c.src, '--dest', c.link, '--apply'], c);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(c.outside, 'new.txt/out'), 'utf8')).toBe('the source named out');
  });
});
