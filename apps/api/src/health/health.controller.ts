import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { ClusterContext } from '@filer/jobs';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/scope.decorator.js';
import { CLUSTER } from '../config/tokens.js';

const CHECK_TIMEOUT_MS = 2_000;

export interface Readiness {
  status: 'ok' | 'error';
  checks: { redis: string; results: string };
  redis?: { appendonly: string; maxmemoryPolicy: string };
  warnings: string[];
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** `INFO` answers even where CONFIG is renamed or forbidden (managed Redis, ACLs). */
function infoField(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** Liveness and readiness probes: open to anyone, and cheap. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(@Inject(CLUSTER) private readonly ctx: ClusterContext) {}

  @Get()
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: Redis answers and the results store is writable',
    description:
      'Redis persistence settings that can lose queued jobs (appendonly off, an evicting maxmemory-policy) are reported as warnings.',
  })
  @ApiResponse({ status: 200, description: 'Ready' })
  @ApiResponse({ status: 503, description: 'Not ready: a check failed' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Readiness> {
    const out: Readiness = { status: 'ok', checks: { redis: 'ok', results: 'ok' }, warnings: [] };
    try {
      this.ctx.results.check();
    } catch (e) {
      out.checks.results = `error: ${(e as Error).message}`;
    }
    try {
      // Commands queue while the connection is down (it retries for ever): do not add to that queue.
      if (this.ctx.redis.status !== 'ready') throw new Error(`connection is ${this.ctx.redis.status}`);
      await withTimeout(this.ctx.redis.ping(), 'PING');
      const info = await withTimeout(this.ctx.redis.info(), 'INFO');
      const appendonly = infoField(info, 'aof_enabled') === '1' ? 'yes' : 'no';
      const maxmemoryPolicy = infoField(info, 'maxmemory_policy') ?? 'unknown';
      out.redis = { appendonly, maxmemoryPolicy };
      if (appendonly !== 'yes') out.warnings.push('Redis appendonly is off: a Redis restart loses every queued job');
      if (maxmemoryPolicy !== 'noeviction')
        out.warnings.push(
          `Redis maxmemory-policy is ${maxmemoryPolicy}: under memory pressure Redis may evict queued jobs (use noeviction)`,
        );
    } catch (e) {
      out.checks.redis = `error: ${(e as Error).message}`;
    }
    if (Object.values(out.checks).some((c) => c !== 'ok')) {
      out.status = 'error';
      void reply.status(503);
    }
    return out;
  }
}
