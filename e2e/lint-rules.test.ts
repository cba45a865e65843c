import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error a plain ES module of the repo's lint setup, without types
import { boundaries, fileSize } from '../eslint.config.js';
// @ts-expect-error a plain ES module of the repo's lint setup, without types
import { boundaryConfigs } from '../scripts/lint/boundaries.mjs';
// @ts-expect-error a plain ES module of the repo's lint setup, without types
import filer from '../scripts/lint/filer-plugin.mjs';
// @ts-expect-error a plain ES module of the repo's lint setup, without types
import { buildGraph, cycles, makeResolver } from '../scripts/lint/import-graph.mjs';
// @ts-expect-error a plain ES module of the repo's lint setup, without types
import { maxLinesConfigs, oversizedNativeSources } from '../scripts/lint/file-size.mjs';

const root = path.resolve(import.meta.dirname, '..');

/** The layer rules as eslint.config.js sets them (from the real package.json tags), without the typed rules. */
const linter = new Linter({ cwd: root });
const config = [
  { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
  { plugins: { filer } },
  ...boundaryConfigs(boundaries),
];

/** The messages of `filer/imports` for `code` written at `file` (relative to the repository). */
function denied(file: string, code: string): string[] {
  return linter
    .verify(code, config, { filename: path.join(root, file) })
    .map((m) => (m.ruleId === 'filer/imports' ? m.message : `${m.ruleId}: ${m.message}`));
}

describe('filer/imports: the arrows of docs/architecture.md from the nx tags', () => {
  it('refuses a lib importing a lib its tag or infra order does not allow, in every import form', () => {
    const msgs = denied(
      'libs/storage/src/probe.ts',
      [
        "import type { JobRecord } from '@filer/jobs';",
        "export * from '@filer/observability/x';",
        "import { parseFilterSpec } from '@filer/core';",
        "import { x } from '@filer/fs-scan';",
        "export async function f() { return import('@filer/cli'); }",
        "export type T = import('@filer/api').App | JobRecord | typeof parseFilterSpec | typeof x;",
      ].join('\n'),
    );
    expect(msgs).toHaveLength(4);
    for (const [i, name] of ['@filer/jobs', '@filer/observability/x', '@filer/cli', '@filer/api'].entries())
      expect(msgs[i]).toBe(
        `'${name}': libs/storage (type:infra) may import only @filer/core, @filer/engine, @filer/fs-scan (docs/architecture.md#layers)`,
      );
  });

  it('keeps core free of every @filer package and of I/O, and engine on core alone', () => {
    expect(denied('libs/core/src/probe.ts', "import '@filer/engine';\nimport 'node:worker_threads';")).toEqual([
      "'@filer/engine': libs/core (type:core) may import no @filer/* package (docs/architecture.md#layers)",
      "'node:worker_threads': core and engine stay pure: I/O, threads and frameworks live in storage, jobs and the apps",
    ]);
    expect(denied('libs/engine/src/probe.ts', "import '@filer/core';\nimport '@filer/storage';")).toEqual([
      "'@filer/storage': libs/engine (type:engine) may import only @filer/core (docs/architecture.md#layers)",
    ]);
  });

  it('lets apps import libs, but no lib an app, no app another, and the CLI not the cluster', () => {
    expect(denied('apps/api/src/probe.ts', "import '@filer/jobs';\nimport '@filer/storage';")).toEqual([]);
    expect(denied('apps/cli/src/probe.ts', "import '@filer/jobs';")[0]).toMatch(/^'@filer\/jobs': apps\/cli \(type:app\) may import only /);
    expect(denied('apps/scanner-worker/src/probe.ts', "import '@filer/api';")).toHaveLength(1);
    expect(denied('libs/jobs/src/probe.ts', "import '@filer/batch-worker';")).toHaveLength(1);
    expect(denied('libs/testing/src/probe.ts', "import '@filer/jobs';\nimport '@filer/cli';")).toHaveLength(1);
  });

  it('allows @filer/testing and node:fs in test files only, and node:fs elsewhere in storage only', () => {
    const helpers = "import { makeTree } from '@filer/testing';\nimport { rm } from 'node:fs/promises';\nexport const x = [makeTree, rm];";
    expect(denied('libs/jobs/test/probe.test.ts', helpers)).toEqual([]);
    expect(denied('libs/engine/src/probe.spec.ts', helpers)).toEqual([]);
    expect(denied('libs/jobs/src/probe.ts', helpers)).toEqual([
      "'@filer/testing': test helpers: only test/ and *.spec.ts files import them",
      "'node:fs/promises': the file system is reached through libs/storage (I/O at the edges; docs/architecture.md#layers)",
    ]);
    expect(denied('libs/jobs/src/results-store.ts', "import * as fs from 'node:fs';\nexport const x = fs;")).toHaveLength(1);
    expect(denied('libs/storage/src/probe.ts', "import * as fs from 'fs';\nexport const x = fs;")).toEqual([]);
    expect(denied('apps/api/src/probe.ts', "import * as fs from 'fs';\nexport const x = fs;")).toHaveLength(1);
  });

  it("refuses a relative import into another project's folder", () => {
    expect(denied('libs/jobs/src/probe.ts', "import '../../storage/src/index.js';\nimport './queues.js';")).toEqual([
      "'../../storage/src/index.js' reaches into libs/storage: import it by its package name, which the layer rules check",
    ]);
  });
});

describe('filer/no-cycle: the import graph', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-cycles-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('has no cycle in the workspace', () => {
    expect(cycles(buildGraph())).toEqual([]);
  });

  it('finds a cycle closed by type-only, re-export and dynamic imports, and leaves out what only leads into it', () => {
    const files: Record<string, string> = {
      'a.ts': "import type { B } from './b.js';\nexport type A = B;",
      'b.ts': "export * from './c.js';\nexport type B = number;",
      'c.ts': "export async function c() { return (await import('./a.js')) as unknown; }",
      'd.ts': "import type { A } from './a.js';\nexport type D = A;",
      'e.ts': "export type E = import('./d.js').D;",
    };
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    const real = fs.realpathSync(dir);
    const at = (name: string) => path.join(real, name);
    const graph = buildGraph(Object.keys(files).map(at), makeResolver(real));
    expect(cycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts'].map(at)]);
    expect([...graph.get(at('e.ts'))]).toEqual([at('d.ts')]);
  });
});

describe('max-lines: source files of at most 400 lines, as wc -l counts them', () => {
  const sizeConfig = [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...maxLinesConfigs(fileSize)];
  const tooLong = (file: string, code: string): boolean =>
    linter.verify(code, sizeConfig, { filename: path.join(root, file) }).some((m) => m.ruleId === 'max-lines');
  const lines = (n: number): string => 'export const x = 1;\n'.repeat(n);

  it('refuses a libs or apps source file of 401 lines, blank lines and comments included; not tests', () => {
    expect(tooLong('libs/engine/src/batch/probe.ts', lines(400))).toBe(false);
    expect(tooLong('libs/engine/src/batch/probe.ts', lines(401))).toBe(true);
    expect(tooLong('apps/cli/src/commands/probe.ts', '\n'.repeat(399) + '// one comment\n// and another\n')).toBe(true);
    expect(tooLong('libs/engine/src/batch/probe.spec.ts', lines(500))).toBe(false);
    expect(tooLong('libs/storage/test/probe.test.ts', lines(500))).toBe(false);
    expect(tooLong('libs/jobs/src/finalize.ts', lines(401))).toBe(true); // no exceptions are left
  });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-file-size-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds C sources over 400 lines in libs/*/src and apps/*/src, vendored code aside, and none in the repository', () => {
    const files: Record<string, number> = {
      'libs/x/src/big.c': 401,
      'libs/x/src/fits.h': 400,
      'apps/y/src/native/long.h': 450,
      'libs/x/src/vendor/lib.c': 900,
      'libs/x/vendor/lib/lib.h': 900,
    };
    for (const [file, n] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), 'int x;\n'.repeat(n));
    }
    expect(oversizedNativeSources(dir).sort()).toEqual([
      ['apps/y/src/native/long.h', 450],
      ['libs/x/src/big.c', 401],
    ]);
    expect(oversizedNativeSources()).toEqual([]);
  });
});
