import * as fs from 'node:fs';
import { FilerError } from '@filer/core';

/** Checks every root before a walk starts: each must exist and be a directory (bad input → nothing runs). */
export function checkLocalRoots(roots: readonly string[]): void {
  if (roots.length === 0) throw new FilerError('E_INVALID_ARGUMENT', 'no root given: name at least one directory', { field: 'roots' });
  for (const root of roots) {
    let st: fs.Stats;
    try {
      st = fs.statSync(root);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not accessible (permission denied)' : `cannot be read (${code})`;
      throw new FilerError('E_ROOT_NOT_FOUND', `root '${root}' ${why}`, { path: root, field: 'roots', value: root });
    }
    if (!st.isDirectory()) {
      throw new FilerError('E_ROOT_NOT_DIRECTORY', `root '${root}' is not a directory`, { path: root, field: 'roots', value: root });
    }
  }
}
