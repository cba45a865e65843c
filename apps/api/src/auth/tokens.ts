import { createHash, timingSafeEqual } from 'node:crypto';

export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** A configured token, kept as its SHA-256 digest so every comparison has the same length. */
export interface TokenEntry {
  digest: Buffer;
  /**
   * The token's identity for rate limits and idempotency keys in Redis: a hash of its digest
   * (another hash than the one compared, so what Redis holds is not what a request must match).
   */
  id: string;
  scopes: ReadonlySet<Scope>;
}

/** RFC 6750 b64token characters: no spaces, commas or colons, which the list syntax uses. */
const TOKEN_CHARS = /^[A-Za-z0-9\-._~+/]+=*$/;

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();
const identity = (d: Buffer): string => createHash('sha256').update('filer-token-id:').update(d).digest('hex').slice(0, 32);

/** admin implies write, write implies read. */
function expand(scopes: readonly Scope[]): Set<Scope> {
  const out = new Set<Scope>(scopes);
  if (out.has('admin')) out.add('write');
  if (out.has('write')) out.add('read');
  return out;
}

/**
 * Parses `FILER_TOKENS`: comma-separated `token:scopes`, scopes joined by `+`
 * (`abc123:read,def456:read+write,adm789:admin`). Problems are collected, never thrown;
 * the token values themselves never appear in a message.
 */
export function parseTokens(raw: string | undefined, problems: string[]): TokenEntry[] {
  if (raw === undefined || raw.trim() === '') {
    problems.push('FILER_TOKENS: required, comma-separated token:scopes (scopes read, write, admin joined by +), e.g. t0k3n:read+write');
    return [];
  }
  const out: TokenEntry[] = [];
  const seen = new Set<string>();
  raw.split(',').forEach((item, i) => {
    const entry = item.trim();
    const where = `FILER_TOKENS entry ${i + 1}`;
    const colon = entry.lastIndexOf(':');
    if (colon <= 0) return void problems.push(`${where}: expected token:scopes`);
    const token = entry.slice(0, colon);
    if (!TOKEN_CHARS.test(token)) return void problems.push(`${where}: the token has characters outside A-Z a-z 0-9 - . _ ~ + / =`);
    const scopes = entry.slice(colon + 1).split('+');
    const bad = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (bad.length > 0)
      return void problems.push(`${where}: unknown scope(s) ${bad.map((s) => `'${s}'`).join(', ')}: expected read, write or admin`);
    if (seen.has(token)) return void problems.push(`${where}: the same token is listed twice`);
    seen.add(token);
    const d = digest(token);
    out.push({ digest: d, id: identity(d), scopes: expand(scopes as Scope[]) });
  });
  return out;
}

/**
 * The configured token a presented one matches, or undefined. Compares digests in constant time
 * against every configured token, without stopping at the first match.
 */
export function findToken(tokens: readonly TokenEntry[], presented: string): TokenEntry | undefined {
  const d = digest(presented);
  let found: TokenEntry | undefined;
  for (const t of tokens) if (timingSafeEqual(t.digest, d)) found = t;
  return found;
}

/** The scopes of a presented token, or undefined when it matches none. */
export function scopesOf(tokens: readonly TokenEntry[], presented: string): ReadonlySet<Scope> | undefined {
  return findToken(tokens, presented)?.scopes;
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return m?.[1];
}
