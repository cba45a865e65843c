import type { Redis } from 'ioredis';
import { FilerError } from '@filer/core';
import { emptyCounters, FINAL_STATES, type JobRecord, type JobState } from './job-record.js';
import type { JobRecords, ListQuery, NewJobRecord } from './job-records.js';
import { phaseProgressOf } from './phase-progress.js';
import type { RecordCopies } from './record-copies.js';
import { keys } from './redis-keys.js';
import { DEFAULT_RETENTION, finishedAtMs, recordTtlSeconds, type RetentionPolicy } from './retention.js';

export type { ListQuery } from './job-records.js';

// KEYS: record, progress, unfinished set. ARGV: expected text, new text, ttl, id, final (1/0).
const CAS_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[5] == '1' then redis.call('SREM', KEYS[3], ARGV[4]) else redis.call('SADD', KEYS[3], ARGV[4]) end
if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]); redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return 1`;

// Puts a record back where none is (1; 2 when one is), unless it was deleted (0). KEYS: record, index, unfinished set, removed mark.
// ARGV: text, score, id, final, ttl (0: none).
const RESTORE_SCRIPT = `
if redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 2 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
if ARGV[4] ~= '1' then redis.call('SADD', KEYS[3], ARGV[3]) elseif tonumber(ARGV[5]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
return 1`;

// Deletes a record as it was judged (same revision; or already gone from Redis) and marks it removed, so
// neither the mirror nor a restore brings it back. KEYS: record, progress, cancelled, failures, index,
// unfinished set, removed mark. ARGV: revision, id.
const REMOVE_SCRIPT = `
local text = redis.call('GET', KEYS[1])
if text and tostring(cjson.decode(text).rev or 0) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[7], '1', 'EX', 86400)
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[2])
redis.call('SREM', KEYS[6], ARGV[2])
return 1`;

const isFinal = (r: JobRecord): boolean => FINAL_STATES.includes(r.state);

/**
 * Job records in Redis — one JSON value per job, an index sorted by creation, the set of
 * unfinished jobs — each copied durably on every change (`RecordCopies`: the results volume or PostgreSQL).
 * Updates are compare-and-set scripts, so the API's cancel and a worker's finalize cannot lose
 * each other's change; a transition names the states it may leave, which makes a late finalize
 * of a cancelled job a no-op. A record Redis lost is read from its mirrored copy, and put back
 * before it is changed. A finished record's key expires a day after its retention (retention.ts):
 * the sweep removes it with its parts first; an undoable one is kept as long as its undo is.
 */
export class RedisJobRecords implements JobRecords {
  constructor(
    private readonly redis: Redis,
    private readonly copies: RecordCopies,
    private readonly retention: RetentionPolicy = DEFAULT_RETENTION,
  ) {}

  /** Seconds a finished record has left to live (Infinity when it never expires); 0 or less when it has expired. */
  private ttlLeft(r: JobRecord, now = Date.now()): number {
    const ttl = recordTtlSeconds(r, this.retention);
    if (!isFinal(r) || ttl === 0) return Infinity;
    return ttl - Math.floor((now - finishedAtMs(r)) / 1000);
  }

  async create(record: NewJobRecord): Promise<JobRecord> {
    const full: JobRecord = {
      ...record,
      phase: 'scan',
      counters: emptyCounters(),
      shards: { total: 0, done: 0, failed: 0 },
      errorSample: [],
      updatedAt: record.createdAt,
      rev: 0,
    };
    // The durable copy first: a job whose record cannot be kept is refused before anything is queued.
    await this.copies.write(full);
    await this.redis
      .multi()
      .set(keys.job(full.id), JSON.stringify(full))
      .zadd(keys.index, Date.parse(full.createdAt), full.id)
      .sadd(keys.unfinished, full.id)
      .exec();
    return full;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const text = await this.redis.get(keys.job(id));
    return text === null ? await this.mirrored(id) : (JSON.parse(text) as JobRecord);
  }

  /** A record only the mirror still has (Redis lost it), unless it is past its retention. */
  private async mirrored(id: string): Promise<JobRecord | undefined> {
    const rec = await this.copies.read(id);
    return rec !== undefined && this.ttlLeft(rec) > 0 ? rec : undefined;
  }

  async getLive(id: string): Promise<JobRecord | undefined> {
    const [rec, progress] = await Promise.all([this.get(id), this.redis.hgetall(keys.progress(id))]);
    if (rec === undefined) return undefined;
    if (!isFinal(rec) && rec.state !== 'planned') {
      const n = (k: string): number => Number(progress[k] ?? 0);
      rec.shards = {
        total: Math.max(rec.shards.total, n('shardsTotal')),
        done: Math.max(rec.shards.done, n('shardsDone')),
        failed: rec.shards.failed,
      };
      rec.counters = {
        ...rec.counters,
        dirs: Math.max(rec.counters.dirs, n('dirs')),
        entries: Math.max(rec.counters.entries, n('entries')),
        matched: Math.max(rec.counters.matched, n('matched')),
        errors: Math.max(rec.counters.errors, n('errors')),
      };
      const phase = phaseProgressOf(progress, rec.phase);
      if (phase !== undefined) rec.progress = phase;
    }
    return rec;
  }

  async update(
    id: string,
    change: (r: JobRecord) => void,
    from?: readonly JobState[],
    guard?: (r: JobRecord) => boolean,
  ): Promise<JobRecord | undefined> {
    const key = keys.job(id);
    for (let attempt = 0; attempt < 100; attempt++) {
      const text = await this.redis.get(key);
      if (text === null) {
        // Lost by Redis but kept on disk: put it back, then change it like any other.
        if (!(await this.restore(id))) return undefined;
        continue;
      }
      const rec = JSON.parse(text) as JobRecord;
      if (from !== undefined && !from.includes(rec.state)) return undefined;
      if (guard !== undefined && !guard(rec)) return undefined;
      change(rec);
      rec.updatedAt = new Date().toISOString();
      rec.rev = (rec.rev ?? 0) + 1;
      const final = isFinal(rec);
      const ttl = final ? recordTtlSeconds(rec, this.retention) : 0;
      // Compare-and-set on the whole value: safe on a connection shared by concurrent callers (WATCH is not).
      const ok = await this.redis.eval(
        CAS_SCRIPT,
        3,
        key,
        keys.progress(id),
        keys.unfinished,
        text,
        JSON.stringify(rec),
        ttl,
        id,
        final ? 1 : 0,
      );
      if (ok === 1) {
        await this.copy(rec);
        return rec;
      }
    }
    // Others kept changing the record under this update: a conflict of state, which a retry may pass.
    throw new FilerError('E_CONFLICT', `job ${id}: too many concurrent updates`);
  }

  /**
   * Mirrors a change Redis already holds. A failed write is remembered and retried by the
   * reconciler (`repairCopies`) rather than failing the transition that is already made.
   */
  private async copy(rec: JobRecord): Promise<void> {
    try {
      await this.copies.write(rec);
    } catch {
      await this.redis.sadd(keys.uncopied, rec.id);
    }
  }

  /** Puts one mirrored record back into Redis where it is missing; false when there is none to put back (or it was deleted). */
  private async restore(id: string, known?: JobRecord): Promise<boolean> {
    const rec = known ?? (await this.mirrored(id));
    if (rec === undefined) return false;
    const final = isFinal(rec);
    const left = this.ttlLeft(rec);
    const put = await this.redis.eval(
      RESTORE_SCRIPT,
      4,
      keys.job(id),
      keys.index,
      keys.unfinished,
      keys.removed(id),
      JSON.stringify(rec),
      Date.parse(rec.createdAt),
      id,
      final ? 1 : 0,
      left === Infinity ? 0 : Math.max(1, left),
    );
    return put !== 0;
  }

  async remove(rec: JobRecord): Promise<boolean> {
    const id = rec.id;
    const done = await this.redis.eval(
      REMOVE_SCRIPT,
      7,
      keys.job(id),
      keys.progress(id),
      keys.cancelled(id),
      keys.failures(id),
      keys.index,
      keys.unfinished,
      keys.removed(id),
      String(rec.rev ?? 0),
      id,
    );
    if (done !== 1) return false;
    await this.redis.srem(keys.uncopied, id);
    await this.copies.remove(id);
    return true;
  }

  async restoreLost(): Promise<string[]> {
    // The marker goes with everything else when Redis loses its state: present, nothing to do.
    if ((await this.redis.exists(keys.restored)) === 1) return [];
    const restored: string[] = [];
    const ids = await this.copies.ids();
    for (let i = 0; i < ids.length; i += 500) {
      const batch = ids.slice(i, i + 500);
      const present = await this.redis.mget(batch.map(keys.job));
      for (const [j, id] of batch.entries()) {
        if (present[j] !== null) continue;
        const rec = await this.mirrored(id);
        if (rec !== undefined && (await this.restore(id, rec))) restored.push(id);
      }
    }
    await this.redis.set(keys.restored, new Date().toISOString());
    return restored;
  }

  async repairCopies(): Promise<number> {
    let n = 0;
    for (const id of await this.redis.smembers(keys.uncopied)) {
      const text = await this.redis.get(keys.job(id));
      if (text !== null) await this.copies.write(JSON.parse(text) as JobRecord);
      await this.redis.srem(keys.uncopied, id);
      n++;
    }
    return n;
  }

  async unfinished(): Promise<string[]> {
    return this.redis.smembers(keys.unfinished);
  }

  async list(q: ListQuery): Promise<{ jobs: JobRecord[]; next?: string }> {
    // Until the records Redis lost are put back (the marker says so), the mirror is the complete list.
    const jobs = (await this.redis.exists(keys.restored)) === 1 ? await this.listFromRedis(q) : await this.listFromMirror(q);
    return { jobs, next: jobs.length === q.limit ? jobs[jobs.length - 1].id : undefined };
  }

  private matches(q: ListQuery, r: JobRecord): boolean {
    return (q.state === undefined || r.state === q.state) && (q.kind === undefined || r.kind === q.kind);
  }

  private async listFromRedis(q: ListQuery): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    let max = '+inf';
    if (q.before !== undefined) {
      const score = await this.redis.zscore(keys.index, q.before);
      if (score !== null) max = `(${score}`;
    }
    // Filters apply after reading, so read in pages until the page is full or the index ends.
    while (out.length < q.limit) {
      const ids = await this.redis.zrevrangebyscore(keys.index, max, '-inf', 'LIMIT', 0, 200);
      if (ids.length === 0) break;
      const texts = await this.redis.mget(ids.map(keys.job));
      for (const t of texts) {
        if (t === null) continue;
        const r = JSON.parse(t) as JobRecord;
        if (this.matches(q, r)) out.push(r);
        if (out.length === q.limit) break;
      }
      const lastScore = await this.redis.zscore(keys.index, ids[ids.length - 1]);
      if (lastScore === null || ids.length < 200) break;
      max = `(${lastScore}`;
    }
    return out;
  }

  /** Newest first by id (ids begin with their creation time), each record from the mirror. */
  private async listFromMirror(q: ListQuery): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    for (const id of await this.copies.ids()) {
      if (q.before !== undefined && id >= q.before) continue;
      const r = await this.mirrored(id);
      if (r !== undefined && this.matches(q, r)) out.push(r);
      if (out.length === q.limit) break;
    }
    return out;
  }

  async isCancelled(id: string): Promise<boolean> {
    return (await this.redis.exists(keys.cancelled(id))) === 1;
  }
}
