import type { FileIdentity, MoveRequest, PlannedMove } from '@filer/engine';

// How the plan store's rows become the planner's requests and actions.

/** The columns a request and an action record their source's identity in (see idOf). */
interface IdentityColumns {
  source: string;
  target: string;
  size: number;
  dev: number | null;
  ino: number | null;
  mtime_ns: string | null;
  etag: string | null;
}

export interface ReqRow extends IdentityColumns {
  id: number;
  root: number;
  sort_key: string;
  scope: number;
  invalid: string | null;
}

export interface ActRow extends IdentityColumns {
  seq: number;
  overwrite: number;
  note?: string | null;
}

function idOf(r: Omit<IdentityColumns, 'source' | 'target'>): FileIdentity | undefined {
  if (r.dev === null || r.ino === null || r.mtime_ns === null) return undefined;
  // An object's identity carries its ETag: without it, a changed object of the same size and second would pass.
  return { dev: r.dev, ino: r.ino, size: r.size, mtimeNs: r.mtime_ns, ...(r.etag === null ? {} : { etag: r.etag }) };
}

/** A stored request or action as the planner's request: its paths, size, root and journaled identity. */
export function moveOf(
  r: Pick<ReqRow, 'source' | 'target' | 'size' | 'dev' | 'ino' | 'mtime_ns' | 'etag'> & { invalid?: string | null },
  within?: string,
): MoveRequest {
  const id = idOf(r);
  return {
    source: r.source,
    target: r.target,
    size: r.size,
    ...(within === undefined ? {} : { within }),
    ...(id ? { sourceId: id } : {}),
    ...(r.invalid == null ? {} : { invalidName: r.invalid }),
  };
}

/** A `req` row read raw, in REQ_COLUMNS' order. */
export type ReqTuple = [
  root: number,
  sortKey: string,
  id: number,
  source: string,
  target: string,
  size: number,
  dev: number | null,
  ino: number | null,
  mtimeNs: string | null,
  etag: string | null,
  scope: number,
  invalid: string | null,
];

/** moveOf for a raw `req` row. */
export function requestOf(r: ReqTuple, within: string | undefined): MoveRequest {
  const [, , , source, target, size, dev, ino, mtimeNs, etag, , invalid] = r;
  const req: MoveRequest = { source, target, size };
  if (within !== undefined) req.within = within;
  if (dev !== null && ino !== null && mtimeNs !== null)
    req.sourceId = etag === null ? { dev, ino, size, mtimeNs } : { dev, ino, size, mtimeNs, etag };
  if (invalid !== null) req.invalidName = invalid;
  return req;
}

/** An `act` row read raw for the printed plan: its place (seq, ord, sub), then the action's columns and its note. */
export type ActTuple = [
  seq: number,
  ord: number,
  sub: number,
  source: string,
  target: string,
  size: number,
  dev: number | null,
  ino: number | null,
  mtimeNs: string | null,
  etag: string | null,
  overwrite: number,
  note?: string | null,
];

/** The planned action of a raw `act` row, with its request's note when it has one. */
export function actionOf(r: ActTuple): PlannedMove & { note?: string } {
  const [, , , source, target, size, dev, ino, mtimeNs, etag, overwrite, note] = r;
  const move: PlannedMove & { note?: string } = { source, target, size };
  if (dev !== null && ino !== null && mtimeNs !== null)
    move.sourceId = etag === null ? { dev, ino, size, mtimeNs } : { dev, ino, size, mtimeNs, etag };
  if (overwrite === 1) move.overwrite = true;
  if (note != null) move.note = note;
  return move;
}
