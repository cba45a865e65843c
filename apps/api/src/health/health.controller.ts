import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { checkRedis, redisSettings, type ClusterContext, type JobDatabase } from '@filer/jobs';
import type { Metrics } from '@filer/observability';
import type { FastifyReply } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { Public } from '../auth/scope.decorator.js';
import { CLUSTER, METRICS } from '../config/tokens.js';

const CHECK_TIMEOUT_MS = 2_000;

export interface Readiness {
  status: 'ok' | 'error';
  /** `redisSettings` fails on a maxmemory-policy other than noeviction (Redis may evict queued shards). */
  /** `database` only with a job database (FILER_DATABASE_URL): it answers a query. */
  checks: { redis: string; results: string; redisSettings: string; database?: string };
  redis?: { appendonly: string; maxmemoryPolicy: string };
  warnings: string[];
}

/** Liveness and readiness probes: open to anyone, and cheap. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  /** The last reason the policy could not be read, logged once per change rather than per probe. */
  private unreadable: string | undefined;

  constructor(
    @Inject(CLUSTER) private readonly ctx: ClusterContext,
    @Inject(METRICS) private readonly metrics: Metrics,
    private readonly log: PinoLogger,
  ) {
    this.log.setContext('health');
  }

  @Get()
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: Redis answers with maxmemory-policy noeviction, the results store is writable, the job database (if any) answers',
    description:
      'An evicting maxmemory-policy makes it 503 (Redis may drop queued shards). appendonly off, or a policy Redis will not tell (INFO and CONFIG refused), is a warning.',
  })
  @ApiResponse({ status: 200, description: 'Ready' })
  @ApiResponse({ status: 503, description: 'Not ready: a check failed' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Readiness> {
    const out: Readiness = { status: 'ok', checks: { redis: 'ok', results: 'ok', redisSettings: 'ok' }, warnings: [] };
    try {
      await this.ctx.results.check();
    } catch (e) {
      out.checks.results = `error: ${(e as Error).message}`;
    }
    try {
      await checkRedis(this.ctx, CHECK_TIMEOUT_MS);
      const settings = await redisSettings(this.ctx.redis, CHECK_TIMEOUT_MS);
      out.redis = { appendonly: settings.appendonly, maxmemoryPolicy: settings.maxmemoryPolicy };
      if (settings.problems.length > 0) out.checks.redisSettings = `error: ${settings.problems.join('; ')}`;
      out.warnings.push(...settings.warnings);
      this.noteUnreadable(settings.unreadable);
      if (settings.unreadable !== undefined) out.warnings.push(settings.unreadable);
    } catch (e) {
      out.checks.redis = `error: ${(e as Error).message}`;
    }
    if (this.ctx.db !== undefined) out.checks.database = await this.checkDatabase(this.ctx.db);
    if (Object.values(out.checks).some((c) => c !== 'ok')) {
      out.status = 'error';
      void reply.status(503);
    }
    return out;
  }

  /** A `SELECT 1` within the probe's time: records and per-item outcomes are written there on every transition. */
  private async checkDatabase(db: JobDatabase): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    });
    try {
      await Promise.race([db.query('SELECT 1'), timeout]);
      return 'ok';
    } catch (e) {
      return `error: ${(e as Error).message}`;
    } finally {
      clearTimeout(timer);
    }
  }

  private noteUnreadable(reason: string | undefined): void {
    this.metrics.redisSettingsUnreadable.set(reason === undefined ? 0 : 1);
    if (reason !== undefined && reason !== this.unreadable) this.log.error(reason);
    this.unreadable = reason;
  }
}
