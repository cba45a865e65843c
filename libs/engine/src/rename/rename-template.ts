import { invalidArgument } from '@filer/core';
import { compileDateFormat, type WallTime } from './wall-time.js';

/** Where a capture date came from, reported beside each planned rename. */
/** Where a `{date}` came from: EXIF tags, else the file's mtime (an S3 object's LastModified). */
export type DateSource = 'DateTimeOriginal' | 'CreateDate' | 'mtime' | 'LastModified';

/** What a template may ask of a file; capture dates and hashes are fetched only when used. */
export interface TemplateInput {
  name: string;
  parent: string;
  size: number;
  mtime: WallTime;
  capture?: { time: WallTime; source: DateSource };
  counter: number;
  /** Hex content hash (full length); `{hash:N}` takes the first N characters. */
  hash?: string;
}

type Part = (input: TemplateInput) => string;

export interface CompiledTemplate {
  source: string;
  render(input: TemplateInput): string;
  needsCapture: boolean;
  needsHash: boolean;
}

/** `photo.tar.gz` → stem `photo.tar`, ext `.gz`; a leading dot is part of the stem (`.bashrc`). */
export function splitName(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? { stem: name, ext: '' } : { stem: name.slice(0, dot), ext: name.slice(dot) };
}

const FIELD_RE = /\{\{|\}\}|\{([a-z]+)(?::([^}]*))?\}|[{}]/g;
const FIELDS = ['name', 'stem', 'ext', 'parent', 'size', 'mtime', 'date', 'counter', 'hash'];

/**
 * Compiles a rename template: `{date:YYYY}/{date:MM}/{stem}{ext}`. Fields: name, stem, ext (with
 * its dot), parent, size, mtime:FORMAT, date:FORMAT (capture date: EXIF DateTimeOriginal →
 * CreateDate → mtime), counter:WIDTH, hash:N. `{{` and `}}` are literal braces.
 */
export function compileTemplate(template: string, field = 'to'): CompiledTemplate {
  if (template.trim() === '') throw invalidArgument(field, template, 'empty template: e.g. {date:YYYY-MM-DD_HHmmss}{ext}');
  const parts: Part[] = [];
  let needsCapture = false;
  let needsHash = false;
  let last = 0;
  for (const m of template.matchAll(FIELD_RE)) {
    if (m.index > last) {
      const lit = template.slice(last, m.index);
      parts.push(() => lit);
    }
    last = m.index + m[0].length;
    if (m[0] === '{{' || m[0] === '}}') {
      const brace = m[0][0];
      parts.push(() => brace);
      continue;
    }
    const [whole, name, arg] = m;
    if (name === undefined)
      throw invalidArgument(field, template, `unbalanced '${whole}' in template '${template}' (write {{ or }} for a literal brace)`);
    if (!FIELDS.includes(name))
      throw invalidArgument(field, template, `unknown field '{${name}}' in template (fields: ${FIELDS.join(', ')})`);
    parts.push(compileField(name, arg, template, field));
    if (name === 'date') needsCapture = true;
    if (name === 'hash') needsHash = true;
  }
  if (last < template.length) {
    const lit = template.slice(last);
    parts.push(() => lit);
  }
  return { source: template, render: (input) => parts.map((p) => p(input)).join(''), needsCapture, needsHash };
}

function positive(arg: string | undefined, name: string, template: string, field: string, max: number): number {
  if (arg === undefined || !/^\d+$/.test(arg) || Number(arg) < 1 || Number(arg) > max) {
    throw invalidArgument(field, template, `{${name}:N} needs a whole number from 1 to ${max}, not '${arg ?? ''}'`);
  }
  return Number(arg);
}

function compileField(name: string, arg: string | undefined, template: string, field: string): Part {
  const noArg = (): void => {
    if (arg !== undefined) throw invalidArgument(field, template, `{${name}} takes no argument`);
  };
  switch (name) {
    case 'name':
      noArg();
      return (i) => i.name;
    case 'stem':
      noArg();
      return (i) => splitName(i.name).stem;
    case 'ext':
      noArg();
      return (i) => splitName(i.name).ext;
    case 'parent':
      noArg();
      return (i) => i.parent;
    case 'size':
      noArg();
      return (i) => String(i.size);
    case 'mtime': {
      const fmt = compileDateFormat(arg ?? 'YYYY-MM-DD_HHmmss', field);
      return (i) => fmt(i.mtime);
    }
    case 'date': {
      const fmt = compileDateFormat(arg ?? 'YYYY-MM-DD_HHmmss', field);
      return (i) => fmt(i.capture?.time ?? i.mtime);
    }
    case 'counter': {
      const width = arg === undefined ? 1 : positive(arg, name, template, field, 12);
      return (i) => String(i.counter).padStart(width, '0');
    }
    default: {
      const n = positive(arg ?? '8', name, template, field, 64);
      return (i) => (i.hash ?? '').slice(0, n);
    }
  }
}
