import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FilerError } from '@filer/core';
import { parseAllowedS3 } from '@filer/storage';
import { admitJob } from './submit.js';

const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'filer-admit-')));
const allowedS3 = parseAllowedS3('data/in,out').allowed;
const admit = (raw: unknown, s3 = allowedS3): ReturnType<typeof admitJob> => admitJob(raw, [base], Date.now(), s3);

function refusedField(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FilerError);
    return (e as FilerError).field;
  }
  throw new Error('expected the request to be refused');
}

afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe('admitJob with s3:// paths', () => {
  it('admits roots and destinations inside FILER_ALLOWED_S3, normalised as the walk prints them', () => {
    expect(admit({ kind: 'find', roots: ['s3://data/in/', 's3://data/in'] }).roots).toEqual(['s3://data/in']);
    expect(admit({ kind: 'copy', roots: [base], options: { dest: 's3://out/backup/' } }).options.dest).toBe('s3://out/backup/');
    expect(admit({ kind: 'move', roots: ['s3://data/in/x/', base], options: { dest: 's3://out/' } }).roots).toHaveLength(2);
    // A rename on S3 renames keys below their own prefix (copy + verified delete).
    expect(admit({ kind: 'rename', roots: ['s3://data/in/'], options: { to: '{name}' } }).roots).toEqual(['s3://data/in']);
  });

  it('refuses, naming the field: outside the list, S3 off, mixed roots, a destination inside a root', () => {
    expect(refusedField(() => admit({ kind: 'find', roots: ['s3://data/other/'] }))).toBe('roots.0');
    expect(refusedField(() => admit({ kind: 'find', roots: ['s3://data/in/'] }, []))).toBe('roots.0');
    expect(refusedField(() => admit({ kind: 'dupes', roots: [base, 's3://data/in/'] }))).toBe('roots.1');
    expect(refusedField(() => admit({ kind: 'rename', roots: ['s3://data/in/', base], options: { to: '{name}' } }))).toBe('roots.1');
    expect(refusedField(() => admit({ kind: 'copy', roots: [base], options: { dest: 's3://elsewhere/' } }))).toBe('options.dest');
    expect(refusedField(() => admit({ kind: 'copy', roots: ['s3://data/in'], options: { dest: 's3://data/in/copy/' } }))).toBe(
      'options.dest',
    );
  });
});
