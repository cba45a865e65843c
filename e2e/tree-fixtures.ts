import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a tree of `files` small files, 100 to a directory in three levels, where about a third
 * share their content with another file (so dupes finds groups) and sizes vary. The same
 * arguments give the same tree, so two calls make identical twins.
 */
export function writeWideTree(root: string, files: number): void {
  for (let i = 0; i < files; i++) {
    const dir = path.join(root, `a${Math.floor(i / 10_000)}`, `b${Math.floor(i / 1000) % 10}`, `c${Math.floor(i / 100) % 10}`);
    if (i % 100 === 0) fs.mkdirSync(dir, { recursive: true });
    const content = i % 3 === 0 ? `shared content ${i % 997}\n` : `unique content ${i} ${'x'.repeat(i % 50)}\n`;
    fs.writeFileSync(path.join(dir, `f${i}${i % 4 === 0 ? '.csv' : '.txt'}`), content);
  }
}

/** Every file below `root` as `relative path → content`, sorted: a tree compared in one assertion. */
export function contentListing(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else out.push(`${path.relative(root, p)}\t${fs.readFileSync(p, 'utf8').trim()}`);
    }
  };
  walk(root);
  return out.sort();
}
