import * as fs from 'node:fs';
import * as path from 'node:path';

/** Whether anything (a file, a directory, a link, even a dangling one) has this name. */
export function nameTaken(p: string): boolean {
  return fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}

/**
 * Writes a new file durably and atomically: the text goes to a hidden temporary file beside it
 * (`wx`), is fsync'd, then linked to its name — `link(2)` refuses a name that appeared meanwhile,
 * so an existing file is never replaced (EEXIST). Nothing is left behind either way.
 */
export function writeNewFile(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.filer-${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'wx');
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
