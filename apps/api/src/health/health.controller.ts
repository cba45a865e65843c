import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { checkRedis, redisPersistence, type ClusterContext } from '@filer/jobs';
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
      await checkRedis(this.ctx, CHECK_TIMEOUT_MS);
      const { appendonly, maxmemoryPolicy, warnings } = await redisPersistence(this.ctx, CHECK_TIMEOUT_MS);
      out.redis = { appendonly, maxmemoryPolicy };
      out.warnings.push(...warnings);
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
