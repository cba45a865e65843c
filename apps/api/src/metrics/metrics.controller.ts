import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ALL_QUEUES, redisKeys, type ClusterContext, type JobRecord } from '@filer/jobs';
import type { Metrics } from '@filer/observability';
import type { FastifyReply } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { RequireScope } from '../auth/scope.decorator.js';
import { CLUSTER, METRICS } from '../config/tokens.js';
import { RATE_LIMITED, ref } from '../docs/schemas.js';

/** The job gauge samples this many of the newest jobs (the index keeps 30 days of them). */
export const JOBS_SAMPLED = 10_000;
const BATCH = 500;

/**
 * Prometheus metrics. Needs a `read` token (a ServiceMonitor sends it as a bearer token) unless
 * FILER_METRICS_PUBLIC=true. Job and queue gauges are sampled from Redis at scrape time, so every
 * API replica reports the same cluster-wide values; when Redis is down they are left out.
 */
@ApiTags('metrics')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'No token, or an unknown one', schema: ref('Error') })
@ApiResponse({ status: 403, description: 'The token lacks the scope', schema: ref('Error') })
@ApiResponse(RATE_LIMITED)
@RequireScope((config) => (config.metricsPublic ? 'public' : 'read'))
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(CLUSTER) private readonly ctx: ClusterContext,
    @Inject(METRICS) private readonly metrics: Metrics,
    private readonly log: PinoLogger,
  ) {
    this.log.setContext('metrics');
  }

  @Get()
  @ApiOperation({ summary: 'Prometheus text exposition' })
  @ApiProduces('text/plain')
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    try {
      if (this.ctx.redis.status === 'ready') await Promise.all([this.sampleJobs(), this.sampleQueues()]);
    } catch (e) {
      this.log.warn({ err: e }, 'sampling jobs and queues for /metrics failed');
    }
    void reply.header('content-type', this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }

  private async sampleJobs(): Promise<void> {
    const ids = await this.ctx.redis.zrevrange(redisKeys.index, 0, JOBS_SAMPLED - 1);
    const counts = new Map<string, { kind: string; state: string; n: number }>();
    for (let i = 0; i < ids.length; i += BATCH) {
      const texts = await this.ctx.redis.mget(ids.slice(i, i + BATCH).map(redisKeys.job));
      for (const t of texts) {
        if (t === null) continue;
        const { kind, state } = JSON.parse(t) as Pick<JobRecord, 'kind' | 'state'>;
        const key = `${kind}\0${state}`;
        const c = counts.get(key) ?? { kind, state, n: 0 };
        c.n++;
        counts.set(key, c);
      }
    }
    this.metrics.jobs.reset();
    for (const c of counts.values()) this.metrics.jobs.set({ kind: c.kind, state: c.state }, c.n);
  }

  private async sampleQueues(): Promise<void> {
    const all = await Promise.all(ALL_QUEUES.map(async (name) => [name, await this.ctx.queues[name].getJobCounts()] as const));
    this.metrics.queueDepth.reset();
    for (const [queue, counts] of all) for (const [state, n] of Object.entries(counts)) this.metrics.queueDepth.set({ queue, state }, n);
  }
}
