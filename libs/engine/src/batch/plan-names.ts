import type { ConflictKind } from './plan-types.js';

const NAME_MAX = 255;
const PATH_MAX = 4095;

const S3_KEY_MAX = 1024;

export function nameProblem(target: string): { kind: ConflictKind; detail: string } | undefined {
  if (target.includes('\0')) return { kind: 'invalid-name', detail: 'contains a NUL byte' };
  // An S3 target (s3://bucket/key): the key is checked like a path below the bucket, up to S3's 1024 bytes.
  const s3Key = target.startsWith('s3://') ? target.slice(target.indexOf('/', 5)) : undefined;
  if (s3Key !== undefined && Buffer.byteLength(s3Key) > S3_KEY_MAX + 1)
    return { kind: 'name-too-long', detail: `S3 key longer than ${S3_KEY_MAX} bytes` };
  // A UTF-16 unit is at most 3 bytes of UTF-8: a short string needs no count (this runs once per planned file).
  if (s3Key === undefined && target.length * 3 > PATH_MAX && Buffer.byteLength(target) > PATH_MAX)
    return { kind: 'name-too-long', detail: `path longer than ${PATH_MAX} bytes` };
  // Every component after the first '/', found with indexOf (no array of parts made).
  const p = s3Key ?? target;
  for (let from = p.indexOf('/'); from >= 0;) {
    const next = p.indexOf('/', from + 1);
    const end = next < 0 ? p.length : next;
    const len = end - from - 1;
    if (len === 0 || (len <= 2 && p.charCodeAt(from + 1) === 46 && p.charCodeAt(end - 1) === 46))
      return { kind: 'invalid-name', detail: `empty, '.' or '..' path component in '${target}'` };
    if (len * 3 > NAME_MAX) {
      const part = p.slice(from + 1, end);
      if (Buffer.byteLength(part) > NAME_MAX)
        return { kind: 'name-too-long', detail: `name '${part.slice(0, 40)}…' longer than ${NAME_MAX} bytes` };
    }
    from = next;
  }
  return undefined;
}

/** `p` is `dir` or below it (both absolute and resolved, or both `s3://` URIs). */
export function isInside(p: string, dir: string): boolean {
  const d = dir.endsWith('/') ? dir : dir + '/';
  return p === dir || p === d.slice(0, -1) || p.startsWith(d);
}

/** `name (1).ext`, `name (2).ext`…: the first free variant of a target. */
export function suffixedTarget(target: string, taken: (p: string) => boolean): string {
  const slash = target.lastIndexOf('/');
  const dir = target.slice(0, slash + 1);
  const name = target.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 1; ; n++) {
    const candidate = `${dir}${stem} (${n})${ext}`;
    if (!taken(candidate)) return candidate;
  }
}

/** `source` is a suffixed variant of `target` (`name (n).ext` beside it, as suffixedTarget makes them). */
export function isSuffixedVariant(source: string, target: string): boolean {
  const slash = target.lastIndexOf('/');
  if (source.slice(0, slash + 1) !== target.slice(0, slash + 1)) return false;
  const name = target.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  const own = source.slice(slash + 1);
  const n = own.slice(stem.length + 2, own.length - ext.length - 1);
  return own.startsWith(stem + ' (') && own.endsWith(')' + ext) && /^[1-9]\d*$/.test(n);
}
