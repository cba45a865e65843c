import { describe, expect, it } from 'vitest';
import { ApiClient, resultsEncoding } from './api-client.js';

describe('resultsEncoding', () => {
  it('asks for gzip except on loopback, unless FILER_RESULTS_ENCODING says', () => {
    for (const url of ['http://127.0.0.1:8080', 'http://localhost:8080/', 'http://[::1]:8080', 'http://127.1.2.3'])
      expect(resultsEncoding(url, {}), url).toBe('identity');
    for (const url of ['http://filer.example:8080', 'https://10.0.0.5', 'http://[2001:db8::1]:80', 'http://127.0.0.1.example'])
      expect(resultsEncoding(url, {}), url).toBe('gzip');
    expect(resultsEncoding('http://127.0.0.1:8080', { FILER_RESULTS_ENCODING: 'gzip' })).toBe('gzip');
    expect(resultsEncoding('http://filer.example', { FILER_RESULTS_ENCODING: 'identity' })).toBe('identity');
    expect(resultsEncoding('http://filer.example', { FILER_RESULTS_ENCODING: 'br' })).toBe('gzip');
    expect(new ApiClient('http://127.0.0.1:9/', undefined).encoding).toBe(
      process.env.FILER_RESULTS_ENCODING === 'gzip' ? 'gzip' : 'identity',
    );
  });
});
