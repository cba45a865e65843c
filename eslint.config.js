import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { boundaryConfigs } from './scripts/lint/boundaries.mjs';
import filer from './scripts/lint/filer-plugin.mjs';
import { maxLinesConfigs } from './scripts/lint/file-size.mjs';

/**
 * The dependency arrows of docs/architecture.md#layers, from the nx tag in each workspace's
 * package.json: a project may import the @filer/* packages whose tag its own tag lists here. No lib
 * lists type:app, so libs never import apps, nor one app another. @filer/testing (type:testing) is
 * importable from test files only: test/ folders and *.spec.ts.
 */
const arrows = {
  'type:core': [],
  'type:engine': ['type:core'],
  'type:infra': ['type:core', 'type:engine', 'type:infra'],
  'type:testing': ['type:core', 'type:engine', 'type:infra'],
  'type:app': ['type:core', 'type:engine', 'type:infra'],
};
/** Inside type:infra, the order the tag alone does not give: fs-scan and observability are leaves. */
const within = {
  'type:infra': {
    '@filer/fs-scan': [],
    '@filer/observability': [],
    '@filer/storage': ['@filer/fs-scan'],
    '@filer/jobs': ['@filer/storage', '@filer/observability'],
    '@filer/worker-host': ['@filer/jobs', '@filer/observability'],
  },
};
/** The CLI runs the engine in-process, and with --server talks HTTP: it never loads the cluster's code. */
const without = { '@filer/cli': ['@filer/jobs'] };

/** Core and engine stay free of I/O, threads, queues and frameworks; storage and the CLI of queues and Nest. */
const pure = ['node:fs', 'fs', 'node:worker_threads', 'node:child_process', '@aws-sdk/*', 'bullmq', 'ioredis', 'pg', '@nestjs/*', 'pino'];
const frameworks = [
  {
    for: ['type:core', 'type:engine'],
    modules: pure,
    why: 'core and engine stay pure: I/O, threads and frameworks live in storage, jobs and the apps',
  },
  {
    for: ['@filer/storage', '@filer/cli'],
    modules: ['bullmq', 'ioredis', 'pg', '@nestjs/*'],
    why: 'queues, the job database and Nest belong to libs/jobs and the server apps',
  },
];

/**
 * The file system is storage's (and the test helpers'): the cluster's results volume, journals and
 * roots, the CLI's manifest file and its output fds are reached through libs/storage. A file listed
 * in `exceptions` that no longer imports node:fs stops ESLint, so the list stays true; it is empty.
 */
const fs = {
  modules: ['node:fs', 'fs'],
  why: 'the file system is reached through libs/storage (I/O at the edges; docs/architecture.md#layers)',
  allowedIn: ['libs/storage', 'libs/testing'],
  exceptions: [],
};

/** Exported for e2e/lint-rules.test.ts, which checks the rules these settings produce. */
export const boundaries = { arrows, within, without, frameworks, fs };

/**
 * Modules with one job each: no source file over 400 lines, counted as `wc -l` counts them (tests
 * aside; the addon's C is checked by scripts/lint/file-size.mjs, run by `npm run lint`). A file
 * listed here that is no longer over the limit stops ESLint, so the list stays true.
 */
export const fileSize = {
  files: ['libs/*/src/**/*.ts', 'apps/*/src/**/*.ts'],
  ignores: ['**/*.spec.ts'],
  exceptions: [],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/build/**', 'node_modules/**', 'bench/.cache/**', 'coverage/**', '.nx/**', 'libs/fs-scan/index.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // Import cycles, type-only ones included, between any two modules of apps/, libs/ and e2e/.
  { plugins: { filer } },
  { files: ['apps/**/*.ts', 'libs/**/*.ts', 'e2e/**/*.ts'], rules: { 'filer/no-cycle': 'error' } },
  ...boundaryConfigs(boundaries),
  ...maxLinesConfigs(fileSize),
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
      },
    },
  },
);
