/** One ListObjectsV2 response, as the walks use it: parallel arrays, one slot per object. */
export interface ListedPage {
  keys: string[];
  sizes: number[];
  mtimesMs: number[];
  /** ETags without their quotes. */
  etags: (string | undefined)[];
  /** CommonPrefixes (with a delimiter), in the order received. */
  prefixes: string[];
  truncated: boolean;
  nextToken: string | undefined;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const ENTITY = /&(?:#x([0-9a-fA-F]{1,6})|#(\d{1,7})|([a-zA-Z]+));/g;

/** XML text content with its entities decoded (S3 escapes &, <, >, quotes and control characters). */
function decode(s: string): string | undefined {
  const amp = s.indexOf('&');
  if (amp < 0) return s;
  // An ETag: `&quot;…&quot;` around hex digits.
  if (amp === 0 && s.length >= 12 && s.startsWith('&quot;') && s.endsWith('&quot;') && s.indexOf('&', 6) === s.length - 6)
    return '"' + s.slice(6, -6) + '"';
  let bad = false;
  const out = s.replace(ENTITY, (_, hex: string | undefined, dec: string | undefined, named: string | undefined) => {
    const cp = hex !== undefined ? parseInt(hex, 16) : dec !== undefined ? parseInt(dec, 10) : -1;
    if (cp >= 0) {
      if (cp > 0x10ffff) bad = true;
      return bad ? '' : String.fromCodePoint(cp);
    }
    const v = NAMED[named!];
    if (v === undefined) bad = true;
    return v ?? '';
  });
  return bad ? undefined : out;
}

/**
 * The text of the first `<tag>…</tag>` in `xml[from, to)`, decoded; undefined when absent. Throws
 * UNPARSED when the element holds markup (CDATA, a child element, a comment) or a bad entity:
 * the caller then leaves the page to the SDK's full parser.
 */
function textOf(xml: string, tag: Tag, from: number, to: number): string | undefined {
  const at = xml.indexOf(tag.open, from);
  if (at < 0 || at >= to) {
    // An element with attributes or a self-closing one (`<Prefix/>`): only the empty one is simple.
    const selfClosing = xml.indexOf(`<${tag.name}/>`, from);
    if (selfClosing >= 0 && selfClosing < to) return '';
    const withAttrs = xml.indexOf(`<${tag.name} `, from);
    if (withAttrs >= 0 && withAttrs < to) throw UNPARSED;
    return undefined;
  }
  const start = at + tag.open.length;
  const end = xml.indexOf('<', start);
  if (end < 0 || end > to || !xml.startsWith(tag.close, end)) throw UNPARSED;
  const value = decode(xml.slice(start, end));
  if (value === undefined) throw UNPARSED;
  return value;
}

interface Tag {
  name: string;
  open: string;
  close: string;
}

const tag = (name: string): Tag => ({ name, open: `<${name}>`, close: `</${name}>` });
const KEY = tag('Key');
const SIZE = tag('Size');
const MODIFIED = tag('LastModified');
const ETAG = tag('ETag');
const PREFIX = tag('Prefix');
const TRUNCATED = tag('IsTruncated');
const NEXT_TOKEN = tag('NextContinuationToken');

/** An ETag without its quotes (S3 sends them as `&quot;`, decoded by then). */
function bare(etag: string | undefined): string | undefined {
  return etag !== undefined && etag.length >= 2 && etag.startsWith('"') && etag.endsWith('"') ? etag.slice(1, -1) : etag;
}

const UNPARSED = new Error('not a plain ListObjectsV2 page');

/**
 * Reads a ListObjectsV2 response body (ListBucketResult) by scanning for the few elements a listing
 * needs — Contents' Key, Size, LastModified and ETag, CommonPrefixes' Prefix, IsTruncated and
 * NextContinuationToken — instead of building the SDK's whole document tree, which cost about
 * two thirds of the CLI's CPU time on a listing. XML text never holds a raw '<', so an element's
 * text ends at the next '<'. Returns undefined for anything it does not plainly understand (another
 * root element, CDATA, attributes, an unknown entity, a Size that is not a number, an unparsable
 * date): the caller hands that body to the SDK's parser instead, so no listing is lost to this path.
 */
export function parseListPage(xml: string): ListedPage | undefined {
  try {
    return parse(xml);
  } catch (e) {
    if (e === UNPARSED) return undefined;
    throw e;
  }
}

function parse(xml: string): ListedPage | undefined {
  const root = xml.indexOf('<ListBucketResult');
  if (root < 0 || xml.indexOf('<![CDATA[') >= 0 || xml.indexOf('<EncodingType>') >= 0) return undefined;
  const page: ListedPage = { keys: [], sizes: [], mtimesMs: [], etags: [], prefixes: [], truncated: false, nextToken: undefined };
  // The page's own fields sit outside Contents and CommonPrefixes: look for them in the text before the first of those, and after the last.
  let lastModified: string | undefined;
  let lastMtimeMs = 0;
  let i = root;
  let headEnd = xml.length;
  // The next of each, found again only once passed (a page of one kind must not be rescanned for the other per element).
  let c = xml.indexOf('<Contents>', i);
  let p = xml.indexOf('<CommonPrefixes>', i);
  for (;;) {
    if (c >= 0 && c < i) c = xml.indexOf('<Contents>', i);
    if (p >= 0 && p < i) p = xml.indexOf('<CommonPrefixes>', i);
    if (c < 0 && p < 0) break;
    const isObject = c >= 0 && (p < 0 || c < p);
    const at = isObject ? c : p;
    if (headEnd === xml.length) headEnd = at;
    const close = isObject ? '</Contents>' : '</CommonPrefixes>';
    const end = xml.indexOf(close, at);
    if (end < 0) throw UNPARSED;
    if (isObject) {
      const key = textOf(xml, KEY, at, end);
      if (key === undefined) throw UNPARSED;
      const sizeText = textOf(xml, SIZE, at, end);
      const size = sizeText === undefined ? 0 : Number(sizeText);
      const modified = textOf(xml, MODIFIED, at, end);
      // Objects written together share their LastModified: parse each distinct text once.
      if (modified !== lastModified) {
        lastModified = modified;
        lastMtimeMs = modified === undefined ? 0 : Date.parse(modified);
      }
      if (!Number.isSafeInteger(size) || size < 0 || !Number.isFinite(lastMtimeMs)) throw UNPARSED;
      page.keys.push(key);
      page.sizes.push(size);
      page.mtimesMs.push(lastMtimeMs);
      page.etags.push(bare(textOf(xml, ETAG, at, end)));
    } else {
      const prefix = textOf(xml, PREFIX, at, end);
      if (prefix === undefined) throw UNPARSED;
      page.prefixes.push(prefix);
    }
    i = end + close.length;
  }
  const field = (t: Tag): string | undefined => textOf(xml, t, root, headEnd) ?? textOf(xml, t, i, xml.length);
  page.truncated = field(TRUNCATED) === 'true';
  page.nextToken = field(NEXT_TOKEN);
  return page;
}
