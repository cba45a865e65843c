import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Dependency arrows of DESIGN.md, enforced per layer: core and engine stay free of I/O and frameworks. */
const pure = [
  'node:fs',
  'node:fs/promises',
  'fs',
  'node:worker_threads',
  'node:child_process',
  '@aws-sdk/*',
  'bullmq',
  'ioredis',
  '@nestjs/*',
  'pino',
];
const restrict = (patterns) => ({
  'no-restricted-imports': [
    'error',
    { patterns: patterns.map((group) => ({ group: [group], message: 'crosses a layer boundary (see docs/architecture.md)' })) },
  ],
});

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
  { files: ['libs/core/src/**/*.ts'], rules: restrict([...pure, '@filer/*']) },
  { files: ['libs/engine/src/**/*.ts'], rules: restrict([...pure, '@filer/storage', '@filer/cli', '@filer/testing']) },
  { files: ['libs/storage/src/**/*.ts'], rules: restrict(['@filer/cli', '@filer/testing', 'bullmq', 'ioredis', '@nestjs/*']) },
  { files: ['apps/cli/src/**/*.ts'], rules: restrict(['@filer/jobs', '@filer/testing', 'bullmq', 'ioredis', '@nestjs/*']) },
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
