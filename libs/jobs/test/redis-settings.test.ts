import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '@filer/testing';
import { redisSettings, SAFE_MAXMEMORY_POLICY } from '@filer/jobs';

/** The Redis settings the cluster checks before it trusts a Redis with its queues, read from real servers. */
describe('redisSettings', () => {
  let safe: RedisHandle;
  let evicting: RedisHandle;
  const clients: Redis[] = [];
  const connect = (url: string): Redis => {
    const c = new Redis(url, { maxRetriesPerRequest: 1 });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    [safe, evicting] = await Promise.all([startRedis(), startRedis({ maxmemoryPolicy: 'allkeys-lru' })]);
  });

  afterEach(async () => {
    // Whatever a test took away from the default user, it gets back.
    await connect(safe.url).acl('SETUSER', 'default', 'on', 'nopass', '~*', '&*', '+@all');
    for (const c of clients.splice(0)) c.disconnect();
  });

  afterAll(async () => {
    await Promise.all([safe?.stop(), evicting?.stop()]);
  });

  it('accepts noeviction, warning that appendonly is off', async () => {
    const s = await redisSettings(connect(safe.url));
    expect(s).toMatchObject({ appendonly: 'no', maxmemoryPolicy: SAFE_MAXMEMORY_POLICY, problems: [] });
    expect(s.unreadable).toBeUndefined();
    expect(s.warnings.join(' ')).toMatch(/appendonly is off/);
  });

  it('refuses an evicting policy, naming the setting', async () => {
    const s = await redisSettings(connect(evicting.url));
    expect(s.maxmemoryPolicy).toBe('allkeys-lru');
    expect(s.problems).toHaveLength(1);
    expect(s.problems[0]).toMatch(/maxmemory-policy is allkeys-lru.*set maxmemory-policy noeviction/);
  });

  it('reads the policy from INFO where CONFIG is refused', async () => {
    await connect(safe.url).acl('SETUSER', 'default', '-config');
    const s = await redisSettings(connect(safe.url));
    expect(s).toMatchObject({ maxmemoryPolicy: 'noeviction', problems: [] });
    expect(s.unreadable).toBeUndefined();
  });

  it('says it cannot tell where INFO and CONFIG are both refused', async () => {
    await connect(safe.url).acl('SETUSER', 'default', '-info', '-config');
    const s = await redisSettings(connect(safe.url));
    expect(s).toMatchObject({ maxmemoryPolicy: 'unknown', appendonly: 'unknown', problems: [] });
    expect(s.unreadable).toMatch(/cannot read Redis maxmemory-policy \(INFO: NOPERM.*CONFIG GET: NOPERM.*\)/);
  });
});
