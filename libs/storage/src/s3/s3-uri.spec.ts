import { describe, expect, it } from 'vitest';
import { listingPrefix, parseS3Uri } from './s3-uri.js';
import { s3ConfigFromEnv } from './s3-config.js';

describe('parseS3Uri', () => {
  it('splits bucket and key, keeping the key as written', () => {
    expect(parseS3Uri('s3://bkt/a/b/')).toEqual({ bucket: 'bkt', key: 'a/b/' });
    expect(parseS3Uri('s3://bkt')).toEqual({ bucket: 'bkt', key: '' });
    expect(parseS3Uri('s3://my.bucket-1/x')).toEqual({ bucket: 'my.bucket-1', key: 'x' });
  });
  it('names the field in its errors', () => {
    for (const bad of ['/tmp/x', 's3://', 's3:///k', 's3://Ab/', 's3://ab/', 's3://a..b/'])
      expect(() => parseS3Uri(bad, 'dest')).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT', field: 'dest', value: bad }));
  });
  it('maps a walk directory to the prefix it lists', () => {
    expect(listingPrefix('s3://bkt')).toEqual({ bucket: 'bkt', key: '' });
    expect(listingPrefix('s3://bkt/a/b')).toEqual({ bucket: 'bkt', key: 'a/b/' });
  });
});

describe('s3ConfigFromEnv', () => {
  it('reads the FILER_S3_* variables', () => {
    expect(s3ConfigFromEnv({ FILER_S3_ENDPOINT: 'http://127.0.0.1:9000', FILER_S3_MAX_ATTEMPTS: '7' })).toMatchObject({
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 7,
      timeoutMs: 30_000,
    });
    expect(s3ConfigFromEnv({ AWS_REGION: 'eu-west-1' })).toMatchObject({ endpoint: undefined, region: 'eu-west-1', forcePathStyle: false });
  });
  it('rejects bad values naming the variable', () => {
    expect(() => s3ConfigFromEnv({ FILER_S3_TIMEOUT_MS: '0' })).toThrow(expect.objectContaining({ field: 'FILER_S3_TIMEOUT_MS' }));
    expect(() => s3ConfigFromEnv({ FILER_S3_FORCE_PATH_STYLE: 'maybe' })).toThrow(
      expect.objectContaining({ field: 'FILER_S3_FORCE_PATH_STYLE' }),
    );
    expect(() => s3ConfigFromEnv({ FILER_S3_ENDPOINT: 'localhost:9000' })).toThrow(expect.objectContaining({ field: 'FILER_S3_ENDPOINT' }));
  });
});
