import * as fs from 'node:fs';
import * as path from 'node:path';
import { IGNORE_FILE_NAMES, type IgnoreSource } from '@filer/engine';

function readIgnoreText(dir: string): string {
  let text = '';
  for (const name of IGNORE_FILE_NAMES) {
    try {
      text += fs.readFileSync(path.join(dir, name), 'utf8') + '\n';
    } catch {
      // absent or unreadable: no rules from it
    }
  }
  return text;
}

/**
 * Ignore files above a root that still govern it: when the root lies inside a git repository,
 * those of every directory from the repository's top down to the root's parent (as fd and
 * ripgrep do). Outside a repository, nothing above the root applies.
 */
export function ancestorIgnoreSources(root: string): IgnoreSource[] {
  let dir: string;
  try {
    dir = fs.realpathSync(root);
  } catch {
    return [];
  }
  if (fs.existsSync(path.join(dir, '.git'))) return [];
  const chain: string[] = [];
  for (let parent = path.dirname(dir); ; parent = path.dirname(parent)) {
    chain.push(parent);
    if (fs.existsSync(path.join(parent, '.git'))) break;
    if (parent === path.dirname(parent)) return []; // reached / without finding a repository
  }
  const sources: IgnoreSource[] = [];
  for (const ancestor of chain.reverse()) {
    const text = readIgnoreText(ancestor);
    if (text.trim() === '') continue;
    sources.push({ dir: ancestor, text, strip: 0, prefix: path.relative(ancestor, dir) + '/' });
  }
  return sources;
}
