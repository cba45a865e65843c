import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file, makeTree, nativeAddonOff, noiseBytes, type TempTree } from '@filer/testing';
import { nativeScan, type NativeScan } from '../src/local/native-scan.js';

// copyStaged: the native copy the batch commands stage files with. Same bytes and mode as the source,
// never over an existing name, nothing left behind when it fails; across file systems it falls back
// from copy_file_range to reading and writing.
describe.skipIf(nativeAddonOff)('native copyStaged', () => {
  const native = nativeScan as NativeScan;
  const BIG = noiseBytes(20 * 1024 * 1024 + 123, 4); // several 8 MiB chunks, the last one partial
  let t: TempTree;
  let shm: string | undefined;
  beforeAll(() => {
    t = makeTree({ 'big.bin': file(BIG, { mode: 0o640 }), 'small.txt': file('small', { mode: 0o604 }), empty: file('') });
    // tmpfs is another file system than the temp dir's (on this machine's disk), when it exists.
    if (fs.existsSync('/dev/shm') && fs.statSync('/dev/shm').dev !== fs.statSync(os.tmpdir()).dev)
      shm = fs.mkdtempSync('/dev/shm/filer-copy-');
  });
  afterAll(() => {
    t?.cleanup();
    if (shm) fs.rmSync(shm, { recursive: true, force: true });
  });

  it.each([
    ['big.bin', true],
    ['big.bin', false],
    ['small.txt', false],
    ['empty', true],
  ] as const)('copies %s (flush %s) byte for byte, with its mode', async (name, flush) => {
    const target = t.path(`copy-${name}-${flush}`);
    await native.copyStaged(t.path(name), target, flush);
    expect(fs.readFileSync(target).equals(fs.readFileSync(t.path(name)))).toBe(true);
    expect(fs.statSync(target).mode & 0o7777).toBe(fs.statSync(t.path(name)).mode & 0o7777);
  });

  it('never writes over an existing name: EEXIST, and the file there is untouched', async () => {
    const target = t.path('occupied');
    fs.writeFileSync(target, 'keep me');
    await expect(native.copyStaged(t.path('big.bin'), target, true)).rejects.toMatchObject({
      code: 'EEXIST',
      syscall: 'copyfile',
      message: `EEXIST: file already exists, copyfile '${t.path('big.bin')}' -> '${target}'`,
    });
    expect(fs.readFileSync(target, 'utf8')).toBe('keep me');
  });

  it('a missing source is ENOENT and creates nothing', async () => {
    const target = t.path('never');
    await expect(native.copyStaged(t.path('missing'), target, false)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(fs.existsSync(target)).toBe(false);
  });

  it('copies to another file system (tmpfs) with the same bytes', async (ctx) => {
    if (shm === undefined) ctx.skip();
    const target = path.join(shm!, 'big.bin');
    await native.copyStaged(t.path('big.bin'), target, true);
    expect(fs.readFileSync(target).equals(BIG)).toBe(true);
  });
});
