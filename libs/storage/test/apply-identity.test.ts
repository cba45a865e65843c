import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyJob, type FaultStep, type JobRecord, type JournalAction } from '@filer/engine';
import { LocalFileOps } from '@filer/storage';
import { openStateDb, SqliteJournal } from '@filer/storage/state';

/**
 * The identity checks inside one apply, where no crash is involved: a source written to while it
 * is copied, or right before it is removed, or swapped for another file under its name. The
 * engine's step callback (the crash tests' fault hook) is where the test makes the change.
 */

let base: string;
let mnt: string;
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-apply-identity-'));
  mnt = fs.mkdtempSync(path.join(base, 'mnt-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', mnt]);
});
afterAll(() => {
  execFileSync('umount', ['-l', mnt]);
  fs.rmSync(base, { recursive: true, force: true });
});

/** Journals `kind` of each file in `src` to `destDir` (identities as the CLI records them) and applies it. */
async function apply(
  kind: 'copy' | 'move',
  src: string,
  destDir: string,
  at: { step: FaultStep; act: () => void },
  copyHook?: () => void,
): Promise<{ job: JobRecord; actions: JournalAction[] }> {
  const db = openStateDb(path.join(fs.mkdtempSync(path.join(base, 'state-')), 'filer.db'));
  try {
    const journal = new SqliteJournal(db);
    const ops = new LocalFileOps(undefined, copyHook === undefined ? undefined : (step) => step === 'mid-copy' && copyHook());
    const names = fs.readdirSync(src).sort();
    const job = journal.create(
      kind,
      names.map((n) => ({
        source: path.join(src, n),
        target: path.join(destDir, n),
        size: 1,
        overwrite: false,
        sourceId: ops.stat(path.join(src, n)),
      })),
      { onConflict: 'fail', verify: false },
    );
    let fired = false;
    const report = await applyJob(job, journal, ops, {
      fault: (step) => {
        if (step === at.step && !fired) {
          fired = true;
          at.act();
        }
      },
    });
    expect(fired, `step ${at.step} was reached`).toBe(true);
    return { job: report.job, actions: journal.actions(job.id) };
  } finally {
    db.close();
  }
}

function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(base, 'src-'));
  for (const [n, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), text);
  return dir;
}

const read = (p: string): string | undefined => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined);

describe('apply checks identities as it acts', () => {
  it('a source written to while it is copied: E_CHANGED, no copy under any name, the source intact', async () => {
    const src = tree({ 'a.txt': 'a'.repeat(4096), 'b.txt': 'b' });
    const dest = path.join(base, 'dest-copy');
    let appended = false;
    // Copies run several at once: the first one to reach the middle of its copy changes a.txt.
    const { actions } = await apply('copy', src, dest, { step: 'after-journal', act: () => {} }, () => {
      if (!appended) fs.appendFileSync(path.join(src, 'a.txt'), 'more');
      appended = true;
    });
    expect(actions.map((a) => [path.basename(a.source), a.state, a.reason?.split(':')[0]])).toEqual([
      ['a.txt', 'failed', 'E_CHANGED'],
      ['b.txt', 'done', undefined],
    ]);
    expect(actions[0].reason).toContain('changed while it was copied');
    expect(fs.readdirSync(dest)).toEqual(['b.txt']);
    expect(read(path.join(src, 'a.txt'))).toBe('a'.repeat(4096) + 'more');
  });

  it('move across devices: a source written to after its copy was placed is not removed; both kept', async () => {
    const src = tree({ 'a.txt': 'a', 'b.txt': 'b' });
    const dest = path.join(mnt, 'dest-move');
    const { actions } = await apply('move', src, dest, {
      step: 'before-unlink',
      act: () => fs.appendFileSync(path.join(src, 'a.txt'), '+'),
    });
    expect(actions.map((a) => [path.basename(a.source), a.state])).toEqual([
      ['a.txt', 'failed'],
      ['b.txt', 'done'],
    ]);
    expect(actions[0].reason).toMatch(/^copied, but the source was not removed: E_CHANGED: .*a\.txt changed since it was copied/);
    // The copy stays journaled as the job's, for undo to name.
    expect(actions[0].targetId).toMatchObject({ size: 1 });
    expect([read(path.join(src, 'a.txt')), read(path.join(dest, 'a.txt'))]).toEqual(['a+', 'a']);
    expect([read(path.join(src, 'b.txt')), read(path.join(dest, 'b.txt'))]).toEqual([undefined, 'b']);
  });

  it('move on one device: a file swapped in under the source name after the link is not removed', async () => {
    const src = tree({ 'a.txt': 'a' });
    const dest = path.join(base, 'dest-same');
    const { actions } = await apply('move', src, dest, {
      step: 'before-unlink',
      act: () => {
        fs.writeFileSync(path.join(src, '.new'), 'a stranger');
        fs.renameSync(path.join(src, '.new'), path.join(src, 'a.txt'));
      },
    });
    expect(actions[0].state).toBe('failed');
    expect(actions[0].reason).toMatch(/E_CHANGED: .*a\.txt is no longer the same file/);
    expect([read(path.join(src, 'a.txt')), read(path.join(dest, 'a.txt'))]).toEqual(['a stranger', 'a']);
  });

  it('a directory on the path swapped for a symlink after the plan: nothing is done through it (E_PATH_CHANGED)', async () => {
    const outside = fs.mkdtempSync(path.join(base, 'outside-'));
    const src = tree({ 'a.txt': 'a' });
    const destParent = fs.mkdtempSync(path.join(base, 'swap-'));
    const dest = path.join(destParent, 'd');
    fs.mkdirSync(dest);
    const { actions } = await apply('copy', src, dest, {
      step: 'after-journal',
      act: () => {
        fs.renameSync(dest, dest + '.bak');
        fs.symlinkSync(outside, dest);
      },
    });
    expect(actions[0].state).toBe('failed');
    expect(actions[0].reason).toMatch(/^E_PATH_CHANGED: /);
    expect(fs.readdirSync(outside)).toEqual([]);
  });
});
