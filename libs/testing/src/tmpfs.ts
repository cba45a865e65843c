import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * tmpfs mounts made by a test (root only), each in a fresh directory below `parent`; `unmountAll`
 * (call it in afterAll, before removing `parent`) unmounts every one, waiting out a busy mount
 * briefly, then detaching it lazily, so no mount outlives the test even when it failed.
 */
export class TmpfsMounts {
  private readonly dirs: string[] = [];

  /** Mounts a tmpfs with `options` (e.g. `size=64m`, `nr_inodes=600`) and returns its directory. */
  mount(parent: string, options: string): string {
    const dir = fs.mkdtempSync(path.join(parent, 'tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
    this.dirs.push(dir);
    return dir;
  }

  /** Changes a mount's options in place (`size=256m`, `nr_inodes=10000`): what is on it stays. */
  remount(dir: string, options: string): void {
    execFileSync('mount', ['-o', `remount,${options}`, dir]);
  }

  unmountAll(): void {
    for (const dir of this.dirs.splice(0)) {
      let done = false;
      for (let i = 0; i < 20 && !done; i++) {
        try {
          execFileSync('umount', [dir], { stdio: 'ignore' });
          done = true;
        } catch {
          Atomics.wait(pause, 0, 0, 100);
        }
      }
      if (!done) execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    }
  }
}
