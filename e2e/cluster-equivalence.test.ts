import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiler, startCluster, type ClusterHandle } from '@filer/testing';
import { contentListing, writeWideTree } from './tree-fixtures.js';

const FILES = 50_000;

/** The same job, in-process and through the API (2 scanner workers, 1 batch worker): the output must be the same. */
describe('the cluster gives the in-process results', () => {
  let cluster: ClusterHandle;
  let base: string;
  let treeA: string;
  let treeB: string;

  const remote = (args: string[]) => runFiler(['--server', cluster.url, '--token', cluster.tokens.write, ...args], { timeoutMs: 240_000 });
  const local = (args: string[]) => runFiler(args, { timeoutMs: 240_000 });
  const sortedLines = (s: string) =>
    s
      .split('\n')
      .filter((l) => l !== '')
      .sort();

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-eq-'));
    treeA = path.join(base, 'a');
    treeB = path.join(base, 'b');
    writeWideTree(treeA, FILES);
    writeWideTree(treeB, FILES);
    // A small shard budget makes the 50,000 files spread over many shards and both scanners.
    cluster = await startCluster({ allowedRoots: [base], env: { FILER_SHARD_BUDGET: '2000', FILER_BATCH_SHARD_SIZE: '5000' } });
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('find: the same records', async () => {
    const [a, b] = [await local(['find', treeA, '--format', 'ndjson']), await remote(['find', treeA, '--format', 'ndjson'])];
    expect(b.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const la = sortedLines(a.stdout);
    expect(la.length).toBe(FILES);
    expect(sortedLines(b.stdout)).toEqual(la);
    const ext = [
      await local(['find', treeA, '--ext', 'csv', '--sort', 'path']),
      await remote(['find', treeA, '--ext', 'csv', '--sort', 'path']),
    ];
    expect(ext[1].stdout).toBe(ext[0].stdout);
    expect(ext[0].stdout.split('\n').length - 1).toBe(FILES / 4);
  });

  it('find --format paths and ndjson: the bytes the API streams, plain and gzipped, are the in-process lines', async () => {
    // Names that take the path cutter's slow way (escapes) beside the plain ones.
    const odd = path.join(base, 'odd');
    fs.mkdirSync(odd);
    for (const name of ['plain.txt', 'quote"d', 'back\\slash', 'new\nline', 'tab\tx', 'ünïcödé 😀', 'ctl\u0001'])
      fs.writeFileSync(path.join(odd, name), name);
    for (const format of ['paths', 'ndjson']) {
      for (const root of [treeB, odd]) {
        const want = sortedLines((await local(['find', root, '--format', format])).stdout);
        expect(want.length).toBeGreaterThanOrEqual(root === odd ? 7 : FILES);
        for (const encoding of ['identity', 'gzip']) {
          const r = await runFiler(['--server', cluster.url, '--token', cluster.tokens.write, 'find', root, '--format', format], {
            timeoutMs: 240_000,
            env: { FILER_RESULTS_ENCODING: encoding },
          });
          expect(r.code, `${format} ${encoding}`).toBe(0);
          expect(sortedLines(r.stdout), `${format} ${encoding} ${root}`).toEqual(want);
        }
      }
    }
  });

  it('dupes: the same groups in the same order', async () => {
    const a = await local(['dupes', treeA, '--format', 'ndjson', '--no-cache']);
    const b = await remote(['dupes', treeA, '--format', 'ndjson']);
    expect(a.code).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stdout.split('\n').length).toBeGreaterThan(900);
    expect(b.stdout).toBe(a.stdout);
  });

  it('rename: the same plan, and applied, the same tree', async () => {
    const args = (root: string) => ['rename', root, '--to', '{stem}-{size}{ext}', '--format', 'ndjson'];
    const t0 = Date.now();
    const plan = [await local(args(treeA)), await remote(args(treeA))];
    console.log('plans', Date.now() - t0);
    expect(plan[0].code).toBe(0);
    expect(plan[1].code, plan[1].stderr).toBe(0);
    expect(plan[1].stdout).toBe(plan[0].stdout);
    expect(plan[0].stdout.split('\n').length - 1).toBe(FILES);

    const before = contentListing(treeA);
    expect(contentListing(treeB)).toEqual(before);
    const t1 = Date.now();
    const applied = [await local([...args(treeA), '--apply']), await remote([...args(treeB), '--apply'])];
    console.log('applies', Date.now() - t1);
    expect(applied[0].code, applied[0].stderr).toBe(0);
    expect(applied[1].code, applied[1].stderr).toBe(0);
    const after = contentListing(treeA);
    expect(after).not.toEqual(before);
    expect(contentListing(treeB)).toEqual(after);
  }, 400_000);
});
