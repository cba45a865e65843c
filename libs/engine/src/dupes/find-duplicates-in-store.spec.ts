import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryDupeFileStore } from './dupe-file-store.js';
import { findDuplicates } from './find-duplicates.js';
import { findDuplicatesInStore } from './find-duplicates-in-store.js';
import { sampleIsWhole } from './sample-layout.js';
import type { CachedHashes, DupeFile, DupePhase, FileHasher, HashAlgorithm, HashCache, HashOutcome, HashScope } from './dupe-types.js';

/** Hashes a file's content token (the sample is the token's first half: files can share it and differ). */
class TokenHasher implements FileHasher {
  readonly algorithm: HashAlgorithm = 'sha256';
  bytesRead = 0;
  constructor(
    private readonly token: Map<string, string>,
    private readonly failing: Map<string, HashScope>,
  ) {}

  async hash(files: readonly DupeFile[], scope: HashScope): Promise<HashOutcome[]> {
    await Promise.resolve();
    return files.map((f) => {
      if (this.failing.get(f.path) === scope) return { error: { path: f.path, code: 'EIO', message: 'injected' } };
      const t = this.token.get(f.path)!;
      const whole = scope === 'full' || sampleIsWhole(f.size);
      this.bytesRead += whole ? f.size : 8192;
      return {
        hash: createHash('sha256')
          .update(whole ? t : t.slice(0, 1))
          .digest('hex'),
        whole,
      };
    });
  }
}

class MapCache implements HashCache {
  readonly rows = new Map<string, CachedHashes>();
  lookup(files: readonly DupeFile[]): (CachedHashes | undefined)[] {
    return files.map((f) => this.rows.get(f.path));
  }
  store(entries: readonly { file: DupeFile; sample?: string; full?: string }[]): void {
    for (const e of entries) this.rows.set(e.file.path, { sample: e.sample, full: e.full });
  }
}

describe('findDuplicatesInStore', () => {
  // Few sizes and tokens so groups, sample collisions, hard links and overlapping roots are common.
  const record = fc.record({
    size: fc.constantFrom(0, 5, 9000, 20_000),
    token: fc.constantFrom('aa', 'ab', 'ba', 'bb'),
    link: fc.integer({ min: 0, max: 5 }),
    linkTo: fc.nat(),
    fail: fc.constantFrom<HashScope | 'none'>('none', 'none', 'none', 'none', 'sample', 'full'),
  });

  it('finds what findDuplicates finds over the same files, whatever the pass size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { minLength: 0, maxLength: 40 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 8 }),
        async (recs, includeEmpty, useCache, filesPerPass) => {
          const files: DupeFile[] = [];
          const token = new Map<string, string>();
          const failing = new Map<string, HashScope>();
          recs.forEach((r, i) => {
            const target = files.length > 0 && r.link <= 1 ? files[r.linkTo % files.length] : undefined;
            // link 0: a hard link to an earlier file; 1: the same name again (overlapping roots).
            const path = target && r.link === 1 ? target.path : `/d${i % 3}/f${String(i).padStart(2, '0')}`;
            const file = target ? { ...target, path } : { path, size: r.size, dev: 1, ino: 100 + i, mtimeSec: 1, mtimeNsec: 0 };
            files.push(file);
            if (!target) token.set(path, `${r.token}${r.size}`);
            else token.set(path, token.get(target.path)!);
            if (r.fail !== 'none' && !target) failing.set(path, r.fail);
          });
          const phases = (): { seen: DupePhase[]; onPhase: (p: DupePhase) => void } => {
            const seen: DupePhase[] = [];
            return { seen, onPhase: (p) => void seen.push(p) };
          };
          const a = phases();
          const b = phases();
          const cacheA = useCache ? new MapCache() : undefined;
          const cacheB = useCache ? new MapCache() : undefined;
          const base = { includeEmpty, emptyHash: 'EMPTY' };
          const want = await findDuplicates(files, { ...base, hasher: new TokenHasher(token, failing), cache: cacheA, onPhase: a.onPhase });
          const store = new MemoryDupeFileStore();
          for (let i = 0; i < files.length; i += 3) store.add(files.slice(i, i + 3));
          const got = await findDuplicatesInStore(
            store,
            { ...base, hasher: new TokenHasher(token, failing), cache: cacheB, onPhase: b.onPhase },
            filesPerPass,
          );
          expect(got.groups).toEqual(want.groups);
          expect(got.stats).toEqual(want.stats);
          const byPath = (x: { path: string }, y: { path: string }): number => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0);
          expect([...got.errors].sort(byPath)).toEqual([...want.errors].sort(byPath));
          expect(b.seen).toEqual(a.seen);
          if (cacheA && cacheB) expect(new Map([...cacheB.rows].sort())).toEqual(new Map([...cacheA.rows].sort()));
        },
      ),
      { numRuns: 400 },
    );
  });
});
