import { Controller, Get, Inject, Param, Res, type BeforeApplicationShutdown } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { ClusterContext, EventHub } from '@filer/jobs';
import type { FastifyReply } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { RequireScope } from '../auth/scope.decorator.js';
import { CLUSTER, EVENT_HUB } from '../config/tokens.js';
import { RATE_LIMITED, ref } from '../docs/schemas.js';
import { notFound } from '../errors/api-error.js';
import { JobEventStream } from './job-event-stream.js';
import { jobId } from './params.js';

@ApiTags('jobs')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'No token, or an unknown one', schema: ref('Error') })
@ApiResponse({ status: 403, description: 'The token lacks the scope', schema: ref('Error') })
@ApiResponse(RATE_LIMITED)
@RequireScope('read')
@Controller('v1/jobs')
export class EventsController implements BeforeApplicationShutdown {
  /** Open streams, ended on shutdown so the server can close (the only state kept across requests, with the hub). */
  private readonly streams = new Set<JobEventStream>();

  constructor(
    @Inject(CLUSTER) private readonly ctx: ClusterContext,
    @Inject(EVENT_HUB) private readonly hub: EventHub,
    private readonly log: PinoLogger,
  ) {
    this.log.setContext('events');
  }

  @Get(':id/events')
  @ApiOperation({
    summary: 'Server-sent events about a job',
    description:
      'Events carry the whole live record: `record` first, then `state` (the state changed) and `progress`, at most 4 a second; ' +
      '`end` follows a final state (completed, failed, cancelled, undone; planned when nothing is to be applied). A comment every 15 s keeps the connection open.',
  })
  @ApiParam({ name: 'id' })
  @ApiProduces('text/event-stream')
  @ApiResponse({ status: 200, description: 'An event stream' })
  @ApiResponse({ status: 404, schema: ref('Error') })
  async events(@Param('id') id: string, @Res() reply: FastifyReply): Promise<void> {
    if ((await this.ctx.store.get(jobId(id))) === undefined) throw notFound(`no job ${id}`);
    reply.hijack();
    const stream = new JobEventStream(
      this.ctx,
      id,
      reply.raw,
      (s) => this.streams.delete(s),
      (e) => this.log.warn({ jobId: id, err: e }, 'event stream: reading the job failed'),
    );
    this.streams.add(stream);
    try {
      await stream.start(this.hub);
    } catch (e) {
      this.log.error({ jobId: id, err: e }, 'event stream: subscribing failed');
      if (!reply.raw.headersSent)
        reply.raw
          .writeHead(503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { code: 'E_UNAVAILABLE', message: 'job events are unavailable' } }));
      stream.end('subscribing to job events failed');
    }
  }

  beforeApplicationShutdown(): void {
    for (const s of [...this.streams]) s.end('the server is shutting down');
  }
}
