import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query as QueryParams, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  admitJob,
  cancelJob,
  deleteJob,
  FINAL_STATES,
  JOB_STATES,
  resumeJob,
  startApply,
  startPurge,
  startUndo,
  submitJob,
  type ClusterContext,
  type IdempotencyStore,
  type JobRecord,
} from '@filer/jobs';
import { JOB_KINDS } from '@filer/core';
import type { Metrics } from '@filer/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { RequireScope } from '../auth/scope.decorator.js';
import { CLUSTER, IDEMPOTENCY, METRICS } from '../config/tokens.js';
import { RATE_LIMITED, ref } from '../docs/schemas.js';
import { conflict, notFound } from '../errors/api-error.js';
import { IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_PATTERN, idempotencyKey, requestFingerprint, runIdempotent } from './idempotency.js';
import { jobId, jobLinks, listParams, LIST_LIMIT_MAX, queryEnum, withLinks, type JobAccepted, type Query } from './params.js';

const errors = { schema: ref('Error') };
const idParam = { name: 'id', description: 'A job id', schema: { type: 'string', pattern: '^[0-9a-z]{10,40}$' } } as const;

/** Submitting, listing, reading and steering jobs. Reads need `read`, everything that changes a job needs `write`. */
@ApiTags('jobs')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'No token, or an unknown one', ...errors })
@ApiResponse({ status: 403, description: 'The token lacks the scope', ...errors })
@ApiResponse(RATE_LIMITED)
@RequireScope('read')
@Controller('v1/jobs')
export class JobsController {
  constructor(
    @Inject(CLUSTER) private readonly ctx: ClusterContext,
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(IDEMPOTENCY) private readonly idempotency: IdempotencyStore<JobAccepted>,
    private readonly log: PinoLogger,
  ) {
    this.log.setContext('jobs');
  }

  @Post()
  @RequireScope('write')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Submit a job',
    description:
      'Validated completely (shape, filter, every path) before anything is queued. With an `Idempotency-Key`, the first request ' +
      'with that key (per token) makes the job and later ones with the same body get the same answer again (202, the same id, ' +
      '`Idempotent-Replayed: true`) for FILER_IDEMPOTENCY_TTL_S (24 h); the same key with another body is a 422.',
  })
  @ApiHeader({
    name: IDEMPOTENCY_HEADER,
    required: false,
    description: 'A key of your choice (a UUID fits), unique per request you mean to make once; a retry sends the same key.',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source, maxLength: 255 },
  })
  @ApiBody({ schema: ref('JobSpec') })
  @ApiResponse({
    status: 202,
    description: 'Accepted and queued; or the replay of the answer to an earlier request with the same Idempotency-Key',
    schema: ref('JobAccepted'),
    headers: {
      Location: { description: 'The job', schema: { type: 'string' } },
      'Idempotent-Replayed': { description: '`true` on a replay', schema: { type: 'string', enum: ['true'] } },
    },
  })
  @ApiResponse({
    status: 400,
    description: 'Invalid input, field by field; also a path outside the allowed roots, or a malformed Idempotency-Key',
    ...errors,
  })
  @ApiResponse({ status: 409, description: 'E_IDEMPOTENCY_IN_PROGRESS: a request with the same key is still being processed', ...errors })
  @ApiResponse({ status: 413, description: 'Body larger than FILER_MAX_BODY_BYTES', ...errors })
  @ApiResponse({ status: 422, description: 'E_IDEMPOTENCY_KEY_REUSED: the key was used with a different body', ...errors })
  async submit(@Body() body: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<JobAccepted> {
    const key = idempotencyKey(req.headers['idempotency-key']);
    const accept = async (): Promise<JobAccepted> => {
      const spec = admitJob(body, this.ctx.allowedRoots, Date.now(), this.ctx.config.allowedS3);
      const rec = await submitJob(this.ctx, spec);
      this.metrics.jobsSubmitted.inc({ kind: rec.kind });
      this.log.info({ jobId: rec.id, kind: rec.kind, roots: spec.roots.length }, 'job submitted');
      return { id: rec.id, state: rec.state, links: jobLinks(rec.id) };
    };
    let accepted: JobAccepted;
    if (key === undefined) accepted = await accept();
    else {
      // The guard ran first, so the token is known; keys of different tokens never meet.
      const { response, replayed } = await runIdempotent(this.idempotency, req.filerToken!.id, key, requestFingerprint(body), accept, () =>
        this.log.warn('the idempotency key lapsed before the job was recorded under it'),
      );
      accepted = response;
      if (replayed) {
        void reply.header('idempotent-replayed', 'true');
        this.log.info({ jobId: accepted.id }, 'job submit replayed (Idempotency-Key)');
      }
    }
    void reply.header('location', accepted.links.self);
    return accepted;
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
    summary: 'Apply a planned rename/copy/move, or a planned dupes job with an action',
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
    if (FINAL_STATES.includes(rec.state) || rec.state === 'undoing' || rec.state === 'purging')
      throw conflict(`job ${id} is ${rec.state}: nothing to cancel`, rec.state);
    const cancelled = await cancelJob(this.ctx, id);
    if (cancelled === undefined) throw conflict(`job ${id} is ${(await this.record(id)).state}: nothing to cancel`, rec.state);
    this.log.info({ jobId: id, from: rec.state }, 'job cancelled');
    return withLinks(cancelled);
  }

  @Post(':id/undo')
  @RequireScope('write')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Undo an applied rename/copy/move or dupes action',
    description:
      '409 unless the job was applied (completed or failed). A dedupe undo puts each copy’s own inode back from the quarantine or --move-to.',
  })
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

  @Post(':id/purge')
  @RequireScope('write')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Empty the quarantine of an applied dupes action',
    description:
      'Deletes each copy the job kept in `.filer-quarantine/<job>/` (hardlink, symlink, remove), only while it is still the inode ' +
      'the job put there; the job becomes `purged` and can no longer be undone. 409 unless the job is a dupes job with an action, applied (completed or failed).',
  })
  @ApiParam(idParam)
  @ApiResponse({ status: 202, schema: ref('JobRecord') })
  @ApiResponse({ status: 409, ...errors })
  async purge(@Param('id') id: string): Promise<JobRecord> {
    const rec = await this.record(id);
    if (rec.kind !== 'dupes' || rec.spec.options.action === undefined)
      throw conflict(
        `job ${id} is a ${rec.kind} job${rec.kind === 'dupes' ? ' without an action' : ''}: only a dupes action has a quarantine to purge`,
        rec.state,
      );
    if (rec.apply === undefined || !['completed', 'failed'].includes(rec.state))
      throw conflict(
        `job ${id} is ${rec.state}${rec.apply === undefined ? ' and was never applied' : ''}: only an applied job's quarantine is purged`,
        rec.state,
      );
    if (!(await startPurge(this.ctx, id))) throw conflict(`job ${id} cannot be purged now`, (await this.record(id)).state);
    this.log.info({ jobId: id }, 'purge started');
    return withLinks(await this.record(id));
  }

  @Delete(':id')
  @RequireScope('write')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a finished job: its record, result parts and journals',
    description:
      'What the retention sweep does after FILER_RETENTION_DAYS, now. 409 while the job is not finished (cancel it first) or its ' +
      'cancelled shards are still stopping, and for an applied rename/copy/move that can still be undone unless `force=true` ' +
      '(its undo is then lost).',
  })
  @ApiParam(idParam)
  @ApiQuery({ name: 'force', required: false, enum: ['true', 'false'], description: 'Delete an undoable job too' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiResponse({ status: 400, ...errors })
  @ApiResponse({ status: 404, ...errors })
  @ApiResponse({ status: 409, ...errors })
  async remove(@Param('id') id: string, @QueryParams() q: Query): Promise<void> {
    const force = queryEnum(q, 'force', ['true', 'false'] as const) === 'true';
    const outcome = await deleteJob(this.ctx, jobId(id), { force });
    if (outcome.status === 'not-found') throw notFound(`no job ${id}`);
    if (outcome.status === 'conflict') throw conflict(outcome.reason, outcome.state);
    this.log.info({ jobId: id, force }, 'job deleted');
  }

  private async record(id: string): Promise<JobRecord> {
    const rec = await this.ctx.store.getLive(jobId(id));
    if (rec === undefined) throw notFound(`no job ${id}`);
    return rec;
  }
}
