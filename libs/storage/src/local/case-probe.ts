import * as fs from 'node:fs';
import * as path from 'node:path';

function swapCase(name: string): string {
  return [...name].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
}

/**
 * Whether names that differ only in case are the same name where `target` would be written
 * (macOS and Windows volumes, casefolded ext4). Read-only: it looks up an existing entry of the
 * nearest existing directory under its case-swapped name and compares inodes.
 */
export function isCaseInsensitiveAt(target: string): boolean {
  let dir = path.resolve(target);
  while (!fs.existsSync(dir)) dir = path.dirname(dir);
  for (;;) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return false;
    }
    const probe = names.find((n) => swapCase(n) !== n);
    if (probe !== undefined) {
      try {
        const a = fs.lstatSync(path.join(dir, probe), { throwIfNoEntry: false });
        const b = fs.lstatSync(path.join(dir, swapCase(probe)), { throwIfNoEntry: false });
        return a !== undefined && b !== undefined && a.ino === b.ino && a.dev === b.dev;
      } catch {
        return false; // a name that cannot be looked up (ENAMETOOLONG, EACCES) tells nothing
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}
