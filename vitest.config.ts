import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const src = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

// Tests import the libs' TypeScript sources directly; black-box tests spawn the built CLI.
// Coverage (scripts/test.sh turns it on): vitest's V8 coverage of the test processes here, and the
// processes the tests start write theirs for c8 (scripts/coverage/); scripts/coverage/report.mjs
// merges both.
export default defineConfig({
  resolve: {
    alias: {
      '@filer/core/schema': src('./libs/core/src/schema.ts'),
      '@filer/core': src('./libs/core/src/index.ts'),
      '@filer/engine/sample-layout': src('./libs/engine/src/dupes/sample-layout.ts'),
      '@filer/engine': src('./libs/engine/src/index.ts'),
      '@filer/storage/hashing': src('./libs/storage/src/hashing.ts'),
      '@filer/storage/state': src('./libs/storage/src/state.ts'),
      '@filer/storage/dupes': src('./libs/storage/src/dupes.ts'),
      '@filer/storage/manifest': src('./libs/storage/src/manifest.ts'),
      '@filer/storage/media': src('./libs/storage/src/media.ts'),
      '@filer/storage/batch': src('./libs/storage/src/batch.ts'),
      '@filer/storage/s3': src('./libs/storage/src/s3.ts'),
      '@filer/storage/output': src('./libs/storage/src/output.ts'),
      '@filer/storage/results': src('./libs/storage/src/results.ts'),
      '@filer/jobs': src('./libs/jobs/src/index.ts'),
      '@filer/observability': src('./libs/observability/src/index.ts'),
      '@filer/worker-host': src('./libs/worker-host/src/index.ts'),
      '@filer/storage': src('./libs/storage/src/index.ts'),
      '@filer/testing': src('./libs/testing/src/index.ts'),
    },
  },
  test: {
    include: [
      'libs/*/src/**/*.spec.ts',
      'libs/*/test/**/*.test.ts',
      'apps/*/src/**/*.spec.ts',
      'apps/*/test/**/*.test.ts',
      'e2e/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    setupFiles: ['scripts/coverage/children-setup.mjs'],
    reporters: ['default', './scripts/skipped-tests-reporter.mjs'],
    coverage: {
      provider: 'v8',
      include: ['libs/*/src/**/*.ts', 'apps/*/src/**/*.ts'],
      exclude: ['**/*.spec.ts', '**/*.spec-helper.ts', '**/*.d.ts', 'libs/testing/**'],
      reporter: [['json', { file: 'coverage-final.json' }]],
      reportsDirectory: 'coverage/in-process',
      reportOnFailure: true,
    },
  },
});
