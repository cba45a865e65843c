import { describe, expect, it } from 'vitest';
import { argsForBatch, argsForOne, expandPlaceholders, splitExec } from './exec-args.js';

describe('splitExec', () => {
  it('takes the command up to a lone ";" and leaves the rest to find', () => {
    expect(splitExec(['find', 'R', '-x', 'rm', '-v', '{}', ';', '--ext', 'txt'])).toEqual({
      argv: ['find', 'R', '--ext', 'txt'],
      exec: { mode: 'each', argv: ['rm', '-v', '{}'] },
    });
    expect(splitExec(['--server', 'find', 'find', 'R', '--exec-batch', 'ls', '-l'])).toEqual({
      argv: ['--server', 'find', 'find', 'R'],
      exec: { mode: 'batch', argv: ['ls', '-l'] },
    });
  });

  it('leaves every other command alone, -x included', () => {
    expect(splitExec(['rename', 'R', '--to', '-x'])).toEqual({ argv: ['rename', 'R', '--to', '-x'] });
    expect(splitExec(['find', 'R', '--ext', 'txt'])).toEqual({ argv: ['find', 'R', '--ext', 'txt'] });
  });

  it('refuses an empty command and two exec flags', () => {
    expect(() => splitExec(['find', 'R', '-x'])).toThrow(/needs a command/);
    expect(() => splitExec(['find', 'R', '-X', ';', '--ext', 'txt'])).toThrow(/needs a command/);
    expect(() => splitExec(['find', 'R', '-x', 'a', ';', '-x', 'b'])).toThrow(/only one of/);
  });
});

describe("fd's placeholders", () => {
  it.each([
    ['dir/sub/file.tar.gz', ['dir/sub/file.tar.gz', 'file.tar.gz', 'dir/sub', 'dir/sub/file.tar', 'file.tar']],
    ['file', ['file', 'file', '.', 'file', 'file']],
    ['/abs/.hidden', ['/abs/.hidden', '.hidden', '/abs', '/abs/.hidden', '.hidden']],
    ['/top.txt', ['/top.txt', 'top.txt', '/', '/top', 'top']],
    ['a.b/c', ['a.b/c', 'c', 'a.b', 'a.b/c', 'c']],
  ])('%s', (path, expected) => {
    expect(['{}', '{/}', '{//}', '{.}', '{/.}'].map((p) => expandPlaceholders(p, path))).toEqual(expected);
  });

  it('expands inside an argument, and leaves unknown braces alone', () => {
    expect(expandPlaceholders('{.}.png', 'x/y.jpg')).toBe('x/y.png');
    expect(expandPlaceholders('{x} {} {{}}', 'p')).toBe('{x} p {p}');
  });

  it('appends the path, or repeats a templated argument per path', () => {
    expect(argsForOne(['echo', 'a'], 'p')).toEqual(['a', 'p']);
    expect(argsForOne(['echo', '--in={}', 'b'], 'p')).toEqual(['--in=p', 'b']);
    expect(argsForBatch(['echo', 'a'], ['p', 'q'])).toEqual(['a', 'p', 'q']);
    expect(argsForBatch(['cp', '{}', 'dest/'], ['p', 'q'])).toEqual(['p', 'q', 'dest/']);
  });
});
