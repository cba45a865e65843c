import type { Redis } from 'ioredis';
import { emptyCounters, FINAL_STATES, type JobRecord, type JobState } from './job-record.js';
import { keys } from './redis-keys.js';

const CAS_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]); redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return 1`;

/** How long a finished job's record is kept. */
const RECORD_TTL_SECONDS = 30 * 86_400;

export interface ListQuery {
  state?: JobState;
  kind?: string;
  /** Return jobs created before this id (the previous page's `next`). */
  before?: string;
  limit: number;
}

/**
 * Job records in Redis: one JSON value per job, an index sorted by creation. Updates are
 * compare-and-set scripts, so the API's cancel and a worker's finalize cannot lose each
 * other's change; a transition names the states it may leave, which makes a late finalize of a
 * cancelled job a no-op.
 */
export class JobStore {
  constructor(private readonly redis: Redis) {}

  async create(record: Omit<JobRecord, 'counters' | 'shards' | 'errorSample' | 'updatedAt' | 'phase'>): Promise<JobRecord> {
    const full: JobRecord = {
      ...record,
      phase: 'scan',
      counters: emptyCounters(),
      shards: { total: 0, done: 0, failed: 0 },
      errorSample: [],
      updatedAt: record.createdAt,
    };
    await this.redis.multi().set(keys.job(full.id), JSON.stringify(full)).zadd(keys.index, Date.parse(full.createdAt), full.id).exec();
    return full;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const text = await this.redis.get(keys.job(id));
    return text === null ? undefined : (JSON.parse(text) as JobRecord);
  }

  /** The record with live shard and entry counts from the progress hash (approximate until finalized). */
  async getLive(id: string): Promise<JobRecord | undefined> {
    const [rec, progress] = await Promise.all([this.get(id), this.redis.hgetall(keys.progress(id))]);
    if (rec === undefined) return undefined;
    if (!FINAL_STATES.includes(rec.state) && rec.state !== 'planned') {
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
    }
    return rec;
  }

  /**
   * Applies `change` atomically when the job is in one of `from` (any state when omitted).
   * Returns the new record, or undefined when the job is absent or in another state.
   */
  async update(id: string, change: (r: JobRecord) => void, from?: readonly JobState[]): Promise<JobRecord | undefined> {
    const key = keys.job(id);
    for (let attempt = 0; attempt < 100; attempt++) {
      const text = await this.redis.get(key);
      if (text === null) return undefined;
      const rec = JSON.parse(text) as JobRecord;
      if (from !== undefined && !from.includes(rec.state)) return undefined;
      change(rec);
      rec.updatedAt = new Date().toISOString();
      const ttl = FINAL_STATES.includes(rec.state) ? RECORD_TTL_SECONDS : 0;
      // Compare-and-set on the whole value: safe on a connection shared by concurrent callers (WATCH is not).
      const ok = await this.redis.eval(CAS_SCRIPT, 2, key, keys.progress(id), text, JSON.stringify(rec), ttl);
      if (ok === 1) return rec;
    }
    throw new Error(`job ${id}: too many concurrent updates`);
  }

  async list(q: ListQuery): Promise<{ jobs: JobRecord[]; next?: string }> {
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
        if ((q.state === undefined || r.state === q.state) && (q.kind === undefined || r.kind === q.kind)) out.push(r);
        if (out.length === q.limit) break;
      }
      const lastScore = await this.redis.zscore(keys.index, ids[ids.length - 1]);
      if (lastScore === null || ids.length < 200) break;
      max = `(${lastScore}`;
    }
    return { jobs: out, next: out.length === q.limit ? out[out.length - 1].id : undefined };
  }

  async isCancelled(id: string): Promise<boolean> {
    return (await this.redis.exists(keys.cancelled(id))) === 1;
  }
}
