import * as fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { inoOf, jobIdOf, newCase, snapshot, type Case } from './dupes-actions-tree.js';

/**
 * A hardlink (and a remove) job killed with SIGKILL in the middle of its apply — after a copy's
 * inode was linked into the quarantine, before and after its name was replaced — is finished by
 * `filer jobs resume ID`; then undo (itself killed once) gives back the original tree byte for byte
 * and inode for inode.
 */

let c: Case;
afterEach(() => c?.cleanup());

/** Four groups of three copies in two roots, each group its own mode; one unique file. */
function tree(): Case {
  c = newCase();
  for (let g = 0; g < 4; g++) {
    const body = `group ${g} `.repeat(100 + g);
    c.write({ [`a/g${g}/kept`]: body, [`a/g${g}/z-copy`]: body, [`b/g${g}/copy`]: body }, g % 2 === 0 ? 0o644 : 0o640);
  }
  c.write({ 'b/unique': 'only once\n' });
  return c;
}

const FAULTS = ['after-journal:1', 'after-link:3', 'before-unlink:5', 'after-unlink:2', 'after-unlink:8'];

/** Every fault with each action on the native file operations; two with the portable ones (FILER_NATIVE_SCAN=0). */
const CASES: { fault: string; action: string; native: '1' | '0' }[] = [
  ...FAULTS.flatMap((fault) => ['hardlink', 'symlink', 'remove'].map((action) => ({ fault, action, native: '1' as const }))),
  { fault: 'after-link:3', action: 'hardlink', native: '0' },
  { fault: 'before-unlink:5', action: 'remove', native: '0' },
];

describe('SIGKILL mid-apply of a dedupe job, resume, undo', () => {
  for (const { fault, action, native } of CASES)
    it(`${action}, killed at ${fault} (FILER_NATIVE_SCAN=${native}): resume finishes it; undo restores every inode`, async () => {
      tree();
      const env = { FILER_NATIVE_SCAN: native };
      const original = snapshot(c.dir);
      const r = await c.filer(['dupes', c.p('a'), c.p('b'), '--action', action, '--apply'], { ...env, FILER_FAULT: fault });
      expect(r.signal).toBe('SIGKILL');
      const id = jobIdOf(r.stderr);
      const resumed = await c.filer(['jobs', 'resume', id], env);
      expect(resumed.stderr).toContain(`job ${id} completed: 8 done, 0 undone, 0 failed, 0 skipped, 0 pending`);
      for (let g = 0; g < 4; g++)
        for (const copy of [`a/g${g}/z-copy`, `b/g${g}/copy`]) {
          if (action === 'hardlink') expect(inoOf(c.p(copy))).toBe(original[`a/g${g}/kept`].ino);
          else if (action === 'symlink') expect(fs.realpathSync(c.p(copy))).toBe(c.p(`a/g${g}/kept`));
          else expect(fs.existsSync(c.p(copy))).toBe(false);
        }
      // No temporary name is left beside any copy.
      expect(Object.keys(snapshot(c.dir)).filter((k) => k.includes('.filer-'))).toEqual([]);
      const killed = await c.filer(['jobs', 'undo', id], { ...env, FILER_FAULT: 'mid-undo:3' });
      expect(killed.signal).toBe('SIGKILL');
      const undone = await c.filer(['jobs', 'undo', id], env);
      expect(undone.stderr).toContain(`job ${id} undone`);
      expect(snapshot(c.dir)).toEqual(original);
      expect(fs.existsSync(c.p('a/.filer-quarantine'))).toBe(false);
    });
});
