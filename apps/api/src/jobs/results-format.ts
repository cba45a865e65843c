import { isBatchKind, type FileEntry } from '@filer/core';
import { CSV_HEADER, csvField, DUPES_CSV_HEADER, dupeGroupToCsv, entryToCsvRow, type DupeGroup } from '@filer/engine';
import type { JobRecord } from '@filer/jobs';

export const RESULT_FORMATS = ['ndjson', 'csv', 'json', 'paths'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

/** What a job's results are made of: the results part to read and the shape of its lines. */
export type ResultShape = 'find' | 'manifest' | 'dupes' | 'plan' | 'dedupe-plan' | 'report';
export interface ResultSource {
  part: 'scan' | 'manifest' | 'results' | 'plan' | 'report';
  shape: ResultShape;
}

/**
 * The part a job's results are read from, or undefined while there is nothing final to read:
 * find/manifest and dupes once completed; rename/copy/move and dupes with an action their plan
 * once planned and their report once applied (completed, failed or undone).
 */
export function resultSource(rec: JobRecord): ResultSource | undefined {
  // A hashed manifest's records (find records with a sha256) are its hash phase's parts.
  if (rec.kind === 'manifest' && rec.spec.options.hash !== undefined)
    return rec.state === 'completed' ? { part: 'manifest', shape: 'manifest' } : undefined;
  if (rec.kind === 'find' || rec.kind === 'manifest') return rec.state === 'completed' ? { part: 'scan', shape: 'find' } : undefined;
  const dedupe = rec.kind === 'dupes' && rec.spec.options.action !== undefined;
  if (rec.kind === 'dupes' && !dedupe) return rec.state === 'completed' ? { part: 'results', shape: 'dupes' } : undefined;
  if (dedupe && rec.state === 'planned') return { part: 'plan', shape: 'dedupe-plan' };
  if (isBatchKind(rec.kind) || dedupe) {
    if (rec.apply !== undefined && ['completed', 'failed', 'undone', 'purged'].includes(rec.state))
      return { part: 'report', shape: 'report' };
    if (rec.state === 'planned') return { part: 'plan', shape: 'plan' };
  }
  return undefined;
}

export const CONTENT_TYPES: Record<ResultFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  paths: 'text/plain; charset=utf-8',
};

interface FindLine {
  path: string;
  type: FileEntry['kind'];
  size: number | null;
  mtime: string | null;
}

interface BatchLine {
  action?: string;
  source?: string;
  target?: string;
  size?: number;
  state?: string;
  detail?: string;
  reason?: string;
  kind?: string;
}

const BATCH_CSV_HEADER = 'action,source,target,size,state,detail\n';

function findCsv(line: string): string {
  const r = JSON.parse(line) as FindLine;
  return entryToCsvRow({
    path: r.path,
    kind: r.type,
    size: r.size ?? undefined,
    mtimeMs: r.mtime === null ? undefined : Date.parse(r.mtime),
  });
}

/** A hashed manifest's row: the find row with its sha256 last, as `filer manifest --hash` writes it. */
function manifestCsv(line: string): string {
  const sha256 = (JSON.parse(line) as { sha256: string | null }).sha256;
  return findCsv(line).slice(0, -1) + ',' + (sha256 ?? '') + '\n';
}

function batchCsv(line: string, kind: string): string {
  const r = JSON.parse(line) as BatchLine;
  const detail = r.action === 'conflict' ? [r.kind, r.detail].filter(Boolean).join(': ') : (r.reason ?? '');
  return (
    [r.action ?? kind, r.source ?? '', r.target ?? '', r.size ?? '', r.state ?? '', detail].map((v) => csvField(String(v))).join(',') + '\n'
  );
}

/**
 * Renders one page of result lines (NDJSON as stored) in a format, record by record: skips
 * `cursor` records, stops after `limit`, and yields text in chunks of about 64 KiB. Nothing
 * but the current chunk is held in memory.
 */
export async function* renderResults(
  lines: AsyncIterable<string>,
  opts: { shape: ResultShape; format: ResultFormat; kind: string; cursor: number; limit?: number },
): AsyncGenerator<string> {
  const { shape, format, kind, cursor, limit } = opts;
  let chunk = '';
  if (format === 'csv')
    chunk =
      shape === 'find'
        ? CSV_HEADER
        : shape === 'manifest'
          ? CSV_HEADER.replace('\n', ',sha256\n')
          : shape === 'dupes'
            ? DUPES_CSV_HEADER
            : BATCH_CSV_HEADER;
  if (format === 'json') chunk = '[';
  let index = 0;
  let written = 0;
  for await (const line of lines) {
    if (index++ < cursor) continue;
    if (limit !== undefined && written >= limit) break;
    switch (format) {
      case 'ndjson':
        chunk += line + '\n';
        break;
      case 'json':
        chunk += (written === 0 ? '\n' : ',\n') + line;
        break;
      case 'paths':
        chunk += (JSON.parse(line) as FindLine).path + '\n';
        break;
      case 'csv':
        chunk +=
          shape === 'find'
            ? findCsv(line)
            : shape === 'manifest'
              ? manifestCsv(line)
              : shape === 'dupes'
                ? dupeGroupToCsv(JSON.parse(line) as DupeGroup, index - 1)
                : batchCsv(line, kind);
        break;
    }
    written++;
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (format === 'json') chunk += written === 0 ? ']\n' : '\n]\n';
  if (chunk !== '') yield chunk;
}
