import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileTemplate, splitName, type TemplateInput } from './rename-template.js';
import { compileDateFormat, localWallTime, type WallTime } from './wall-time.js';

const wall: WallTime = { year: 2024, month: 5, day: 1, hour: 9, minute: 8, second: 7, millisecond: 45 };
const input = (over: Partial<TemplateInput> = {}): TemplateInput => ({
  name: 'IMG_0042.CR2',
  parent: 'import',
  size: 1234,
  mtime: { ...wall, year: 2020 },
  counter: 7,
  ...over,
});

describe('compileDateFormat', () => {
  it('formats every token', () => {
    expect(compileDateFormat('YYYY-MM-DD_HHmmss.SSS')(wall)).toBe('2024-05-01_090807.045');
    expect(compileDateFormat('YY M D H m s')(wall)).toBe('24 5 1 9 8 7');
    expect(compileDateFormat('[YYYY] YYYY')(wall)).toBe('YYYY 2024');
  });
  it('agrees with strftime-style fields for any wall time (property)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1900-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }), (d) => {
        const t = localWallTime(d.getTime());
        const p = (n: number, w = 2) => String(n).padStart(w, '0');
        expect(compileDateFormat('YYYYMMDD_HHmmss')(t)).toBe(
          `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`,
        );
      }),
    );
  });
});

describe('compileTemplate', () => {
  it('renders every field', () => {
    const sut = compileTemplate('{parent}/{date:YYYY}/{stem}-{counter:3}-{size}-{hash:6}{ext}|{name}|{mtime:YYYY}');
    expect(sut.render(input({ capture: { time: wall, source: 'DateTimeOriginal' }, hash: 'abcdef0123' }))).toBe(
      'import/2024/IMG_0042-007-1234-abcdef.CR2|IMG_0042.CR2|2020',
    );
    expect(sut.needsCapture).toBe(true);
    expect(sut.needsHash).toBe(true);
  });
  it('falls back to mtime for {date} without a capture date', () => {
    expect(compileTemplate('{date:YYYY}').render(input())).toBe('2020');
  });
  it('keeps literal braces written twice', () => {
    expect(compileTemplate('{{x}}{stem}').render(input())).toBe('{x}IMG_0042');
  });
  it.each([
    ['{nope}', /unknown field '\{nope\}'/],
    ['{counter:0}', /whole number from 1 to 12/],
    ['{hash:x}', /whole number from 1 to 64/],
    ['{stem:x}', /takes no argument/],
    ['a{b', /unbalanced/],
    ['  ', /empty template/],
  ])('rejects %s clearly', (t, msg) => {
    expect(() => compileTemplate(t)).toThrow(msg);
  });
  it('splits names like the shell does', () => {
    expect(splitName('a.tar.gz')).toEqual({ stem: 'a.tar', ext: '.gz' });
    expect(splitName('.bashrc')).toEqual({ stem: '.bashrc', ext: '' });
    expect(splitName('README')).toEqual({ stem: 'README', ext: '' });
  });
});
