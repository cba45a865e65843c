import { Controller, Get, Inject, Query as QueryParams } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { ClusterContext, ItemOutcome } from '@filer/jobs';
import { RequireScope } from '../auth/scope.decorator.js';
import { CLUSTER } from '../config/tokens.js';
import { RATE_LIMITED, ref } from '../docs/schemas.js';
import { ApiError, invalid } from '../errors/api-error.js';
import { jobLinks, queryInt, queryValue, type Query } from './params.js';

export const ITEMS_LIMIT_DEFAULT = 100;
export const ITEMS_LIMIT_MAX = 1_000;
/** PATH_MAX: a longer one names no file any job could have touched. */
const PATH_MAX = 4096;

/** The path asked about: absolute (or an s3:// URI), as jobs journal it; it need not exist any more. */
function itemPath(q: Query): string {
  const p = queryValue(q, 'path');
  if (p === undefined) throw invalid('path', 'path is required: the absolute path (or s3:// URI) of a file');
  if (p.length > PATH_MAX || p.includes('\0') || !(p.startsWith('/') || p.startsWith('s3://')))
    throw invalid('path', 'path must be an absolute path or an s3:// URI, without NUL, at most 4096 characters');
  return p;
}

/** "Which jobs touched this path, and what did they do?" — from the job database's per-item outcomes. */
@ApiTags('items')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'No token, or an unknown one', schema: ref('Error') })
@ApiResponse({ status: 403, description: 'The token lacks the scope', schema: ref('Error') })
@ApiResponse(RATE_LIMITED)
@RequireScope('read')
@Controller('v1/items')
export class ItemsController {
  constructor(@Inject(CLUSTER) private readonly ctx: ClusterContext) {}

  @Get()
  @ApiOperation({
    summary: 'What jobs did to a path',
    description:
      'Every outcome a rename, copy or move job (apply or undo) recorded for an item whose source or target is exactly `path`, newest first: ' +
      'the job, the action, both paths, the state (done, failed, skipped, undone) and a failure’s code. Outcomes are written as each apply ' +
      'shard ends, so they survive a Redis loss. Needs the job database (FILER_DATABASE_URL): without one, 501 E_NO_DATABASE.',
  })
  @ApiQuery({ name: 'path', required: true, description: 'An absolute path or s3:// URI, as the job resolved it' })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: ITEMS_LIMIT_MAX, default: ITEMS_LIMIT_DEFAULT },
  })
  @ApiResponse({ status: 200, schema: ref('ItemList') })
  @ApiResponse({ status: 400, schema: ref('Error') })
  @ApiResponse({ status: 501, description: 'E_NO_DATABASE: the cluster runs without a job database', schema: ref('Error') })
  @ApiResponse({ status: 503, description: 'E_DATABASE: the job database failed the query', schema: ref('Error') })
  async find(@QueryParams() q: Query): Promise<{ path: string; items: (ItemOutcome & { links: { job: string } })[] }> {
    const path = itemPath(q);
    const limit = queryInt(q, 'limit', ITEMS_LIMIT_DEFAULT, 1, ITEMS_LIMIT_MAX)!;
    if (this.ctx.items === undefined)
      throw new ApiError(501, 'E_NO_DATABASE', 'per-item outcomes are kept only with a job database (FILER_DATABASE_URL)');
    const items = await this.ctx.items.findPath(path, limit);
    return { path, items: items.map((i) => ({ ...i, links: { job: jobLinks(i.jobId).self } })) };
  }
}
