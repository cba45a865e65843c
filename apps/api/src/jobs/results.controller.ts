import { Readable } from 'node:stream';
import { Controller, Get, Inject, Param, Query as QueryParams, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { ClusterContext } from '@filer/jobs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequireScope } from '../auth/scope.decorator.js';
import { CLUSTER } from '../config/tokens.js';
import { RATE_LIMITED, ref } from '../docs/schemas.js';
import { conflict, invalid, notFound } from '../errors/api-error.js';
import { jobId, queryEnum, queryInt, type Query } from './params.js';
import { recordPaths } from './record-paths.js';
import { acceptsGzip, gzipped } from './results-encoding.js';
import { CONTENT_TYPES, renderResults, RESULT_FORMATS, resultSource } from './results-format.js';

/** Largest page a client may ask for; without `limit` the whole result streams. */
export const RESULTS_LIMIT_MAX = 100_000;

@ApiTags('jobs')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'No token, or an unknown one', schema: ref('Error') })
@ApiResponse({ status: 403, description: 'The token lacks the scope', schema: ref('Error') })
@ApiResponse(RATE_LIMITED)
@RequireScope('read')
@Controller('v1/jobs')
export class ResultsController {
  constructor(@Inject(CLUSTER) private readonly ctx: ClusterContext) {}

  @Get(':id/results')
  @ApiOperation({
    summary: 'A job’s results, streamed',
    description:
      'find/manifest: one entry a record; dupes: one group a record; rename/copy/move: the plan once planned, the per-file report once applied; ' +
      'dupes with an action: the plan once planned (a record per group — kept file, each copy’s action, bytes freed — then one per skipped copy; ndjson or json), the per-file report once applied. ' +
      '`cursor` skips that many records; with `limit`, `X-Next-Cursor` is set when more records follow. `paths` is for find and manifest only. ' +
      'ndjson is the part files’ bytes as stored, and paths is cut out of them without parsing; with `Accept-Encoding: gzip` the body is gzipped (`Content-Encoding: gzip`).',
  })
  @ApiParam({ name: 'id' })
  @ApiQuery({ name: 'format', required: false, enum: [...RESULT_FORMATS] })
  @ApiQuery({ name: 'cursor', required: false, schema: { type: 'integer', minimum: 0, default: 0 } })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: RESULTS_LIMIT_MAX } })
  @ApiProduces('application/x-ndjson', 'text/csv', 'application/json', 'text/plain')
  @ApiResponse({ status: 200, description: 'The records, streamed' })
  @ApiResponse({ status: 400, schema: ref('Error') })
  @ApiResponse({ status: 404, schema: ref('Error') })
  @ApiResponse({ status: 409, description: 'No results yet (the body names the state)', schema: ref('Error') })
  async results(@Param('id') id: string, @QueryParams() q: Query, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const format = queryEnum(q, 'format', RESULT_FORMATS) ?? 'ndjson';
    const cursor = queryInt(q, 'cursor', 0, 0, Number.MAX_SAFE_INTEGER)!;
    const limit = queryInt(q, 'limit', undefined, 1, RESULTS_LIMIT_MAX);
    const rec = await this.ctx.store.get(jobId(id));
    if (rec === undefined) throw notFound(`no job ${id}`);
    const source = resultSource(rec);
    if (source === undefined) throw conflict(`job ${id} is ${rec.state}: its results are not ready`, rec.state);
    if (format === 'paths' && source.shape !== 'find' && source.shape !== 'manifest')
      throw invalid('format', `format paths is for find and manifest jobs, not ${rec.kind}`);
    // A group record of a dedupe plan holds a list of copies: no row of a table.
    if (format === 'csv' && source.shape === 'dedupe-plan') throw invalid('format', 'a dedupe plan is read as ndjson or json, not csv');
    const total = rec.results;
    if (total !== undefined) void reply.header('x-total-count', String(total));
    // Totals are exact once a job's phase is finalized, so whether more follow is known before the first byte.
    if (limit !== undefined && total !== undefined && cursor + limit < total) void reply.header('x-next-cursor', String(cursor + limit));
    // ndjson and paths stream the parts' bytes (no decoding, no parse per record); csv and json render each record.
    const range = { cursor, limit };
    const body =
      format === 'ndjson'
        ? Readable.from(this.ctx.results.records(id, source.part, range), { objectMode: false })
        : format === 'paths'
          ? Readable.from(recordPaths(this.ctx.results.records(id, source.part, range)), { objectMode: false })
          : Readable.from(
              renderResults(this.ctx.results.lines(id, source.part), { shape: source.shape, format, kind: rec.kind, cursor, limit }),
              { objectMode: false },
            );
    void reply.header('content-type', CONTENT_TYPES[format]).header('cache-control', 'no-store').header('vary', 'accept-encoding');
    if (acceptsGzip(req.headers['accept-encoding'])) await reply.header('content-encoding', 'gzip').send(gzipped(body));
    else await reply.send(body);
  }
}
