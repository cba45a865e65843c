import { createHash } from 'node:crypto';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fileHashes,
  FILER_BIN,
  noiseBytes,
  runFiler,
  seededRandom,
  startFaultProxy,
  startS3Server,
  type FaultProxyHandle,
  type ProcessResult,
  type ProxiedRequest,
  type S3ServerHandle,
} from '@filer/testing';
import { createS3Client, s3ConfigFromEnv, S3Objects } from '@filer/storage/s3';

const BUCKET = 'filer-interrupt';
const FILES = 1000;

let server: S3ServerHandle;
let proxy: FaultProxyHandle;
let objects: S3Objects;
let work: string;
let env: Record<string, string>;

/** key below `prefix` → sha256 of every object there, read back in full. */
async function bucketHashes(prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let token: string | undefined;
  const keys: string[] = [];
  do {
    const page = await objects.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  for (let i = 0; i < keys.length; i += 32)
    await Promise.all(
      keys.slice(i, i + 32).map(async (key) => {
        const hash = createHash('sha256');
        for await (const c of await objects.read({ bucket: BUCKET, key })) hash.update(c as Buffer);
        out[key.slice(prefix.length)] = hash.digest('hex');
      }),
    );
  return out;
}

/** The object key a proxied request names (path style: /bucket/key). */
const keyOf = (r: ProxiedRequest): string => decodeURIComponent(r.url.split('?')[0]).replace(`/${BUCKET}/`, '');
const ok = (r: ProxiedRequest): boolean => r.status !== undefined && r.status < 300;

/**
 * `unlink`/`unlinkat` calls in an `strace -f -ttt -y` log: path → wall-clock ms of each that
 * succeeded. A name relative to a directory descriptor (the addon's unlinkAt) is joined to the
 * directory strace shows for it (`5</src/d0>`).
 */
function unlinks(traceFile: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of fs.readFileSync(traceFile, 'utf8').split('\n')) {
    const m = /^\d+ +(\d+\.\d+) unlink(?:at)?\((?:AT_FDCWD, |\d+<([^>]*)>, )?"([^"]*)".*\) = 0$/.exec(line);
    if (m === null) continue;
    const p = m[2] === undefined ? m[3] : path.join(m[2], m[3]);
    const list = out.get(p) ?? [];
    list.push(Number(m[1]) * 1000);
    out.set(p, list);
  }
  return out;
}

/** Runs the CLI under `strace -f -ttt -y -e unlink,unlinkat` (its unlinks, timed, descriptors named), through the proxy. */
function tracedFiler(
  args: string[],
  traceFile: string,
  onStart?: (child: ReturnType<typeof spawn>) => void,
): Promise<ProcessResult & { stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'strace',
      ['-f', '-qq', '-ttt', '-y', '-e', 'trace=unlink,unlinkat', '-o', traceFile, process.execPath, FILER_BIN, ...args],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString(), stdoutBytes, stderr });
    });
    onStart?.(child);
  });
}

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
  proxy = await startFaultProxy({ target: server.endpoint, failRate: 0 });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-s3-interrupt-'));
  // Through the proxy, whose log keeps every request across the server's restart; few attempts, so a dead server fails fast.
  env = {
    ...server.env(proxy.endpoint),
    XDG_CACHE_HOME: path.join(work, 'cache'),
    FILER_S3_MAX_ATTEMPTS: '2',
    FILER_S3_TIMEOUT_MS: '5000',
  };
  Object.assign(process.env, server.env());
  objects = new S3Objects(createS3Client({ ...s3ConfigFromEnv(), endpoint: server.endpoint }));
});

afterAll(async () => {
  objects?.client.destroy();
  await proxy?.stop();
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const jobIdOf = (stderr: string): string => {
  const m = /job (\S+): journaled/.exec(stderr);
  expect(m, stderr).not.toBeNull();
  return m![1];
};

describe('a move to S3 while the server is killed and restarted (battery 30)', () => {
  it('local → S3: no source unlinked before its upload was verified; resume ends with every object byte-identical, no source left', async () => {
    const src = path.join(work, 'src');
    const random = seededRandom(30);
    for (let i = 0; i < FILES; i++) {
      const rel = `d${i % 10}/f${i}.bin`;
      if (i < 10) fs.mkdirSync(path.join(src, `d${i}`), { recursive: true });
      fs.writeFileSync(path.join(src, rel), noiseBytes(i % 50 === 0 ? 0 : Math.floor(random() * 20_000), i + 1));
    }
    const before = fileHashes(src);
    const remaining = (): number => fs.readdirSync(src, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    proxy.log.length = 0;

    // The move runs until a quarter of the sources are gone, then the server dies under it.
    let killedAt = 0;
    const first = await tracedFiler(['move', src, '--dest', `s3://${BUCKET}/up/`, '--apply'], path.join(work, 'trace-1'), (child) => {
      const watch = async (): Promise<void> => {
        while (child.exitCode === null && FILES - remaining() < FILES / 4) await new Promise((r) => setTimeout(r, 10));
        if (child.exitCode !== null) return;
        await server.kill();
        killedAt = Date.now();
      };
      void watch();
    });
    expect(killedAt, `the move ended before the server could be killed: ${first.stderr}`).toBeGreaterThan(0);
    expect(first.code, first.stderr).toBe(1);
    const id = jobIdOf(first.stderr);
    const leftAfterCrash = remaining();
    expect(leftAfterCrash).toBeGreaterThan(0);
    expect(leftAfterCrash).toBeLessThan(FILES);

    await server.restart();
    const resumed = await tracedFiler(['jobs', 'resume', id], path.join(work, 'trace-2'));
    expect(resumed.code, resumed.stderr).toBe(0);

    // Every object there, byte for byte; nothing else under the prefix; no source left.
    expect(await bucketHashes('up/')).toEqual(before);
    expect(remaining()).toBe(0);

    // Each source was unlinked once, after a PUT of its key and a verifying HEAD had both been answered 2xx.
    const unlinked = new Map([...unlinks(path.join(work, 'trace-1')), ...unlinks(path.join(work, 'trace-2'))]);
    const early: string[] = [];
    for (const rel of Object.keys(before)) {
      const times = unlinked.get(path.join(src, rel));
      expect(times, rel).toHaveLength(1);
      const at = times![0];
      const key = `up/${rel}`;
      const put = proxy.log.find((r) => r.method === 'PUT' && keyOf(r) === key && ok(r) && r.answeredAt! <= at);
      const head =
        put && proxy.log.find((r) => r.method === 'HEAD' && keyOf(r) === key && ok(r) && r.at >= put.answeredAt! && r.answeredAt! <= at);
      if (head === undefined) early.push(`${rel}: unlinked at ${at}, PUT ${put?.answeredAt}, HEAD after it: none`);
    }
    expect(early).toEqual([]);
    console.info(
      `S3 interrupt, local → S3: killed with ${leftAfterCrash} of ${FILES} sources left; ` +
        `${proxy.log.filter((r) => r.status === undefined).length} requests unanswered while the server was down`,
    );
  }, 240_000);

  it('S3 → S3 (the objects just moved up, three prefixes): no source deleted before its copy was verified; resume completes it', async () => {
    const prefixes = ['up/d0/', 'up/d1/', 'up/d2/'];
    const before: Record<string, string> = {};
    // Each root's objects land directly below moved/ (their names are distinct: f<i>.bin), remembering where each came from.
    const origin: Record<string, string> = {};
    for (const p of prefixes)
      for (const [k, h] of Object.entries(await bucketHashes(p))) {
        before[k] = h;
        origin[k] = `${p}${k}`;
      }
    expect(Object.keys(before)).toHaveLength(300);
    const left = async (): Promise<number> => {
      let n = 0;
      for (const p of prefixes) n += Object.keys(await bucketHashes(p)).length;
      return n;
    };
    proxy.log.length = 0;
    let killedAt = 0;
    const roots = prefixes.map((p) => `s3://${BUCKET}/${p}`);
    const first = await tracedFiler(
      ['move', ...roots, '--dest', `s3://${BUCKET}/moved/`, '--apply'],
      path.join(work, 'trace-3'),
      (child) => {
        const watch = async (): Promise<void> => {
          // A quarter of the sources deleted: the server dies under the move.
          while (child.exitCode === null && proxy.log.filter((r) => r.method === 'DELETE' && ok(r)).length < 75)
            await new Promise((r) => setTimeout(r, 10));
          if (child.exitCode !== null) return;
          await server.kill();
          killedAt = Date.now();
        };
        void watch();
      },
    );
    expect(killedAt, `the move ended before the server could be killed: ${first.stderr}`).toBeGreaterThan(0);
    expect(first.code, first.stderr).toBe(1);
    await server.restart();
    const leftAfterCrash = await left();
    expect(leftAfterCrash).toBeGreaterThan(0);
    const resumed = await runFiler(['jobs', 'resume', jobIdOf(first.stderr)], { env, timeoutMs: 120_000 });
    expect(resumed.code, resumed.stderr).toBe(0);

    expect(await bucketHashes('moved/')).toEqual(before);
    expect(await left()).toBe(0);
    // Per source: every DELETE sent for it came after the server-side copy to its target and a HEAD of that target, both 2xx.
    // Every DELETE sent counts, answered or not: the server can carry one out and die before its answer reaches the proxy,
    // and the resume then finds the source gone and the target verified, so it sends none.
    const early: string[] = [];
    for (const rel of Object.keys(before)) {
      const from = origin[rel];
      const to = `moved/${rel}`;
      const deletes = proxy.log.filter((r) => r.method === 'DELETE' && keyOf(r) === from);
      expect(deletes.length, from).toBeGreaterThan(0);
      for (const del of deletes) {
        const copy = proxy.log.find(
          (r) => r.method === 'PUT' && keyOf(r) === to && r.headers['x-amz-copy-source'] !== undefined && ok(r) && r.answeredAt! <= del.at,
        );
        const head =
          copy &&
          proxy.log.find((r) => r.method === 'HEAD' && keyOf(r) === to && ok(r) && r.at >= copy.answeredAt! && r.answeredAt! <= del.at);
        if (head === undefined)
          early.push(`${from}: DELETE sent at ${del.at}, copy ${copy?.answeredAt}, HEAD of the target after it: none`);
      }
    }
    expect(early).toEqual([]);
    console.info(`S3 interrupt, S3 → S3: killed with ${leftAfterCrash} of 300 sources left`);
  }, 240_000);
});
