import { describe, expect, it } from 'vitest';
import { FilerError } from '@filer/core';
import { admitS3Uri, isInsideAllowedS3, parseAllowedS3 } from './allowed-s3.js';

describe('FILER_ALLOWED_S3', () => {
  it('parses buckets and prefixes, with or without s3://, separated by commas or spaces', () => {
    const { allowed, problems } = parseAllowedS3(' logs, s3://backup/photos/ archive/2025//');
    expect(problems).toEqual([]);
    expect(allowed).toEqual([
      { bucket: 'logs', key: '' },
      { bucket: 'backup', key: 'photos' },
      { bucket: 'archive', key: '2025' },
    ]);
    expect(parseAllowedS3(undefined).allowed).toEqual([]);
    expect(parseAllowedS3('ok-bucket,Bad_Bucket').problems).toEqual([expect.stringContaining("'Bad_Bucket'")]);
  });

  it('allows a prefix and the keys below it, not its look-alikes', () => {
    const { allowed } = parseAllowedS3('logs,backup/photos');
    expect(isInsideAllowedS3('s3://logs', allowed)).toBe(true);
    expect(isInsideAllowedS3('s3://logs/any/key', allowed)).toBe(true);
    expect(isInsideAllowedS3('s3://backup/photos', allowed)).toBe(true);
    expect(isInsideAllowedS3('s3://backup/photos/', allowed)).toBe(true);
    expect(isInsideAllowedS3('s3://backup/photos/2025/a.jpg', allowed)).toBe(true);
    expect(isInsideAllowedS3('s3://backup/photos-old/a.jpg', allowed)).toBe(false);
    expect(isInsideAllowedS3('s3://backup/', allowed)).toBe(false);
    expect(isInsideAllowedS3('s3://other/x', allowed)).toBe(false);
  });

  it('refuses with the field named; an empty list refuses every S3 path', () => {
    const refused = (f: () => unknown, field: string): void => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(FilerError);
        expect((e as FilerError).field).toBe(field);
      }
    };
    const { allowed } = parseAllowedS3('backup/photos');
    expect(admitS3Uri('s3://backup/photos/x/', allowed, 'roots.0')).toBe('s3://backup/photos/x/');
    refused(() => admitS3Uri('s3://backup/music/', allowed, 'roots.1'), 'roots.1');
    refused(() => admitS3Uri('s3://backup/photos/../music/', allowed, 'options.dest'), 'options.dest');
    refused(() => admitS3Uri('s3://backup/photos/', [], 'roots.0'), 'roots.0');
  });
});
