import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query as QueryParams, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  admitJob,
  cancelJob,
  FINAL_STATES,
  JOB_STATES,
  resumeJob,
  startApply,
  startUndo,
  submitJob,
  type ClusterContext,
  type JobRecord,
} from '@filer/jobs';
import { JOB_KINDS } from '@filer/core';
import type { Metrics } from '@filer/observability';
import type { FastifyReply } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { RequireScope } from '../auth/scope.decorator.js';
import { CLUSTER, METRICS } from '../config/tokens.js';
import { ref } from '../docs/schemas.js';
import { conflict, notFound } from '../errors/api-error.js';
import { jobId, jobLinks, listParams, LIST_LIMIT_MAX, withLinks, type Query } from './params.js';

const errors = { schema: ref('Error') };
const idParam = { name: 'id', description: 'A job id', schema: { type: 'string', pattern: '^[0-9a-z]{10,40}$' } } as const;

/** Submitting, listing, reading and steering jobs. Reads need `read`, everything that changes a job needs `write`. */
@ApiTags('jobs')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'No token, or an unknown one', ...errors })
@ApiResponse({ status: 403, description: 'The token lacks the scope', ...errors })
@RequireScope('read')
@Controller('v1/jobs')
export class JobsController {
  constructor(
    @Inject(CLUSTER) private readonly ctx: ClusterContext,
    @Inject(METRICS) private readonly metrics: Metrics,
    private readonly log: PinoLogger,
  ) {
    this.log.setContext('jobs');
  }

  @Post()
  @RequireScope('write')
  @HttpCode(202)
  @ApiOperation({ summary: 'Submit a job', description: 'Validated completely (shape, filter, every path) before anything is queued.' })
  @ApiBody({ schema: ref('JobSpec') })
  @ApiResponse({ status: 202, description: 'Accepted and queued', schema: ref('JobAccepted') })
  @ApiResponse({ status: 400, description: 'Invalid input, field by field; also a path outside the allowed roots', ...errors })
  @ApiResponse({ status: 413, description: 'Body larger than FILER_MAX_BODY_BYTES', ...errors })
  async submit(
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ id: string; state: string; links: object }> {
    const spec = admitJob(body, this.ctx.allowedRoots, Date.now(), this.ctx.config.allowedS3);
    const rec = await submitJob(this.ctx, spec);
    this.metrics.jobsSubmitted.inc({ kind: rec.kind });
    this.log.info({ jobId: rec.id, kind: rec.kind, roots: spec.roots.length }, 'job submitted');
    void reply.header('location', jobLinks(rec.id).self);
    return { id: rec.id, state: rec.state, links: jobLinks(rec.id) };
  }

  @Get()
  @ApiOperation({ summary: 'List jobs, newest first' })
  @ApiQuery({ name: 'state', required: false, enum: [...JOB_STATES] })
  @ApiQuery({ name: 'kind', required: false, enum: [...JOB_KINDS] })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: LIST_LIMIT_MAX, default: 50 } })
  @ApiQuery({ name: 'before', required: false, description: 'The previous page’s `next`' })
  @ApiResponse({ status: 200, schema: ref('JobList') })
  @ApiResponse({ status: 400, ...errors })
  async list(@QueryParams() q: Query): Promise<{ jobs: JobRecord[]; next: string | null }> {
    const page = await this.ctx.store.list(listParams(q));
    return { jobs: page.jobs.map(withLinks), next: page.next ?? null };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A job’s record, with live progress while it runs' })
  @ApiParam(idParam)
  @ApiResponse({ status: 200, schema: ref('JobRecord') })
  @ApiResponse({ status: 404, ...errors })
  async get(@Param('id') id: string): Promise<JobRecord> {
    return withLinks(await this.record(id));
  }

  @Post(':id/apply')
  @RequireScope('write')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Apply a planned rename/copy/move',
    description: '409 unless the job is planned and its plan has no conflicts.',
  })
  @ApiParam(idParam)
  @ApiResponse({ status: 202, schema: ref('JobRecord') })
  @ApiResponse({ status: 409, ...errors })
  async apply(@Param('id') id: string): Promise<JobRecord> {
    const rec = await this.record(id);
    if (rec.state !== 'planned') throw conflict(`job ${id} is ${rec.state}: only a planned job can be applied`, rec.state);
    const conflicts = rec.plan?.conflicts ?? 0;
    if (conflicts > 0) throw conflict(`job ${id}'s plan has ${conflicts} conflict(s): resolve them and submit again`, rec.state);
    if (!(await startApply(this.ctx, id))) throw conflict(`job ${id} left the planned state meanwhile`, (await this.record(id)).state);
    this.log.info({ jobId: id }, 'apply started');
    return withLinks(await this.record(id));
  }

  @Post(':id/resume')
  @RequireScope('write')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Resume an apply whose queued shards Redis lost',
    description:
      'For a job failed with E_QUEUE_STATE_LOST while applying: the apply starts again from its plan, each shard resuming its journal. 409 otherwise.',
  })
  @ApiParam(idParam)
  @ApiResponse({ status: 202, schema: ref('JobRecord') })
  @ApiResponse({ status: 409, ...errors })
  async resume(@Param('id') id: string): Promise<JobRecord> {
    const rec = await this.record(id);
    const outcome = await resumeJob(this.ctx, id);
    if (outcome === undefined) throw notFound(`no job ${id}`);
    if (!outcome.resumed) throw conflict(outcome.reason, rec.state);
    this.log.info({ jobId: id }, 'apply resumed');
    return withLinks(await this.record(id));
  }

  @Post(':id/cancel')
  @RequireScope('write')
  @HttpCode(202)
  @ApiOperation({ summary: 'Cancel a job', description: '409 when it already reached a final state.' })
  @ApiParam(idParam)
  @ApiResponse({ status: 202, schema: ref('JobRecord') })
  @ApiResponse({ status: 409, ...errors })
  async cancel(@Param('id') id: string): Promise<JobRecord> {
    const rec = await this.record(id);
    // Checked first, so a request that is refused leaves no cancellation flag behind.
    if (FINAL_STATES.includes(rec.state) || rec.state === 'undoing')
      throw conflict(`job ${id} is ${rec.state}: nothing to cancel`, rec.state);
    const cancelled = await cancelJob(this.ctx, id);
    if (cancelled === undefined) throw conflict(`job ${id} is ${(await this.record(id)).state}: nothing to cancel`, rec.state);
    this.log.info({ jobId: id, from: rec.state }, 'job cancelled');
    return withLinks(cancelled);
  }

  @Post(':id/undo')
  @RequireScope('write')
  @HttpCode(202)
  @ApiOperation({ summary: 'Undo an applied rename/copy/move', description: '409 unless the job was applied (completed or failed).' })
  @ApiParam(idParam)
  @ApiResponse({ status: 202, schema: ref('JobRecord') })
  @ApiResponse({ status: 409, ...errors })
  async undo(@Param('id') id: string): Promise<JobRecord> {
    const rec = await this.record(id);
    if (rec.apply === undefined || !['completed', 'failed'].includes(rec.state))
      throw conflict(`job ${id} is ${rec.state}${rec.apply === undefined ? ' and was never applied' : ''}: nothing to undo`, rec.state);
    if (!(await startUndo(this.ctx, id))) throw conflict(`job ${id} cannot be undone now`, (await this.record(id)).state);
    this.log.info({ jobId: id }, 'undo started');
    return withLinks(await this.record(id));
  }

  private async record(id: string): Promise<JobRecord> {
    const rec = await this.ctx.store.getLive(jobId(id));
    if (rec === undefined) throw notFound(`no job ${id}`);
    return rec;
  }
}
