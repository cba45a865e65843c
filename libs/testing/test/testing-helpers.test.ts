import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dir, file, FILER_BIN, makeTree, REPO_ROOT, runFiler, runProcess, splitRecords, symlink } from '@filer/testing';

describe('makeTree', () => {
  it('creates files with content, size and mtime, dirs, symlinks and modes; cleanup removes everything', () => {
    const mtime = new Date('2024-03-04T05:06:07.000Z');
    const t = makeTree({
      'a.txt': 'hello',
      'sized.bin': file('', { size: 1234 }),
      'pattern.bin': file('ab', { size: 5 }),
      'old.txt': file('x', { mtime }),
      'nested/deep/f': 'f',
      'empty dir': dir(),
      'dated dir': dir({ mtime }),
      'locked/inside.txt': 'i',
      locked: dir({ mode: 0o000 }),
      link: symlink('a.txt'),
      'new\nline': 'n',
    });
    try {
      expect(fs.statSync(t.root).mode & 0o777).toBe(0o755);
      expect(fs.readFileSync(t.path('a.txt'), 'utf8')).toBe('hello');
      expect(fs.statSync(t.path('sized.bin')).size).toBe(1234);
      expect(fs.readFileSync(t.path('pattern.bin'), 'utf8')).toBe('ababa');
      expect(fs.statSync(t.path('old.txt')).mtimeMs).toBe(mtime.getTime());
      expect(fs.readFileSync(t.path('nested/deep/f'), 'utf8')).toBe('f');
      expect(fs.readdirSync(t.path('empty dir'))).toEqual([]);
      expect(fs.statSync(t.path('dated dir')).mtimeMs).toBe(mtime.getTime());
      expect(fs.statSync(t.path('locked')).mode & 0o777).toBe(0);
      expect(fs.readlinkSync(t.path('link'))).toBe('a.txt');
      expect(fs.existsSync(path.join(t.root, 'new\nline'))).toBe(true);
    } finally {
      t.cleanup();
    }
    expect(fs.existsSync(t.root)).toBe(false);
  });
});

describe('splitRecords', () => {
  it('splits on NUL by default and drops only the final terminator', () => {
    expect(splitRecords(Buffer.from('a\0b\nc\0'))).toEqual(['a', 'b\nc']);
    expect(splitRecords('x\ny\n', '\n')).toEqual(['x', 'y']);
    expect(splitRecords('')).toEqual([]);
    expect(splitRecords('a\0\0')).toEqual(['a', '']);
  });
});

describe('runProcess and runFiler', () => {
  it('resolve the repository and the CLI entry from the module location', () => {
    expect(fs.existsSync(path.join(REPO_ROOT, 'package.json'))).toBe(true);
    expect(FILER_BIN).toBe(path.join(REPO_ROOT, 'apps/cli/bin/filer.js'));
  });

  it('return exit code, stdout as text and bytes, and stderr', async () => {
    const r = await runProcess(process.execPath, [
      '-e',
      'process.stdout.write("a\\0b"); process.stderr.write("err"); process.exitCode = 3',
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('a\0b');
    expect(r.stdoutBytes.equals(Buffer.from('a\0b'))).toBe(true);
    expect(r.stderr).toBe('err');
  });

  it('runs the built CLI', async () => {
    const r = await runFiler(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
