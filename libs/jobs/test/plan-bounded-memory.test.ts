import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess, startRedis, type RedisHandle } from '@filer/testing';

/**
 * The cluster's plan phase (planBatch) keeps its plan in a plan store on disk, as the CLI does:
 * planning ten times the files must not take ten times the memory, and the worker's event loop
 * must keep turning (its lock renewals). Measured in a process of its own (plan-batch-child.mjs)
 * over a real Redis and a results directory. Planned in memory, as before, 200,000 files took
 * 474–536 MB against 162 MB for 20,000 and held the loop for 2.8–4.0 s.
 */
const SMALL = 20_000;
const LARGE = 200_000;
/** Growth allowed from SMALL to LARGE: the store's page cache (32 MiB) fills, V8's heap sizes itself to the allocation rate. */
const GROWTH_LIMIT_KB = 128 * 1024;
const RSS_LIMIT_KB = (process.env.LD_PRELOAD?.includes('libasan') ? 1024 : 300) * 1024;
/**
 * The longest the loop may be held: half the shortest lock the tests run with (2 s). Measured: about
 * 0.1 s at load 6 (one feed transaction, the requests sorted as they are added); 0.5–1.3 s while the
 * index was built at seal; the in-memory plan held it 2.8–4.0 s.
 */
const LOOP_LIMIT_MS = 1000;
const CHILD = fileURLToPath(new URL('./plan-batch-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../dist', import.meta.url));

interface ChildReport {
  id: string;
  state: string;
  plan: { actions: number; conflicts: number; bytes: number; unchanged: number; skipped: number };
  results: number;
  maxRssKb: number;
  loopMaxMs: number;
  loopP99Ms: number;
}

describe('the cluster plan phase in bounded memory', () => {
  let redis: RedisHandle;
  let tmp: string;

  beforeAll(async () => {
    redis = await startRedis();
    // tmpfs where there is one: the plan stores and parts of 200,000 files are written in seconds there.
    tmp = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'filer-plan-bounded-'));
  });

  afterAll(async () => {
    await redis?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const plan = async (kind: 'copy' | 'rename', count: number): Promise<ChildReport> => {
    const [results, root, scratch] = ['results', `root-${kind}-${count}`, 'scratch'].map((d) => path.join(tmp, d));
    for (const d of [results, root, scratch]) fs.mkdirSync(d, { recursive: true });
    const r = await runProcess(process.execPath, [CHILD, DIST, redis.url, results, root, String(count), kind], {
      // Measured as it runs in production: without V8 coverage, whose collection under `npm test` adds its own memory.
      env: { TMPDIR: scratch, NODE_V8_COVERAGE: undefined },
      timeoutMs: 300_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildReport;
    expect(report.state).toBe('planned');
    expect(report.plan).toMatchObject({ actions: count, conflicts: 0 });
    expect(report.results).toBe(count);
    const lines = fs
      .readFileSync(path.join(results, report.id, 'plan', 'all.ndjson'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(lines.length).toBe(count);
    const src = path.join(fs.realpathSync(root), 'src');
    // Path order below the root (d0000/f0, f1, f10, …), as planned in memory before.
    const [first, second] = lines.slice(0, 2).map((l) => JSON.parse(l) as { action: string; source: string; target: string });
    expect(first).toMatchObject({ action: kind, source: `${src}/d0000/f0.txt` });
    expect(second.source).toBe(`${src}/d0000/f1.txt`);
    if (kind === 'rename') {
      expect(first.target).toBe(`${src}/d0000/1-f0.txt`);
      expect(JSON.parse(lines[count - 1]).target).toMatch(new RegExp(`/${count}-f\\d+\\.txt$`));
    } else expect(first.target).toBe(`${path.join(fs.realpathSync(root), `dest-${count}`)}/d0000/f0.txt`);
    // One identity per action, for the apply's journal.
    const ids = fs
      .readFileSync(path.join(results, report.id, 'plan-ids', 'all.ndjson'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(ids.length).toBe(count);
    expect(JSON.parse(ids[0])).toMatchObject({ dev: 2049, ino: 1_000_000, size: 0 });
    // The plan store was removed once the parts were written.
    expect(fs.readdirSync(path.join(scratch, `filer-plans-${process.getuid!()}`))).toEqual([]);
    return report;
  };

  for (const kind of ['copy', 'rename'] as const)
    it(`plans a ${kind} of 200,000 files in about the memory of 20,000, the event loop turning`, async () => {
      const small = await plan(kind, SMALL);
      const large = await plan(kind, LARGE);
      const mb = (kb: number): number => Math.round(kb / 1024);
      console.log(
        `cluster ${kind} plan: peak RSS ${SMALL} files ${mb(small.maxRssKb)} MB, ${LARGE} files ${mb(large.maxRssKb)} MB; ` +
          `longest event-loop delay ${small.loopMaxMs} / ${large.loopMaxMs} ms (load ${os.loadavg()[0].toFixed(1)})`,
      );
      expect(large.maxRssKb - small.maxRssKb).toBeLessThan(GROWTH_LIMIT_KB);
      expect(large.maxRssKb).toBeLessThan(RSS_LIMIT_KB);
      expect(large.loopMaxMs).toBeLessThan(LOOP_LIMIT_MS);
    }, 600_000);
});
