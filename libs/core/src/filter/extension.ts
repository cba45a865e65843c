/** Normalises `--ext` values: lower case, no leading dot, no empties. */
export function normalizeExtensions(values: readonly string[]): string[] {
  return [...new Set(values.map((v) => v.trim().replace(/^\.+/, '').trim().toLowerCase()).filter((v) => v !== ''))];
}

/** `name` ends with `suffix` (already lower case), ignoring ASCII case, without allocating. */
function endsWithIgnoringCase(name: string, suffix: string): boolean {
  const off = name.length - suffix.length;
  if (off < 0) return false;
  for (let i = 0; i < suffix.length; i++) {
    let c = name.charCodeAt(off + i);
    if (c >= 65 && c <= 90) c |= 32;
    if (c !== suffix.charCodeAt(i)) return false;
  }
  return true;
}

/** Matches a base name ending in `.ext` for any of the extensions, case-insensitively (`tar.gz` works too). */
export function compileExtensionFilter(extensions: readonly string[]): ((name: string) => boolean) | undefined {
  if (extensions.length === 0) return undefined;
  const suffixes = extensions.map((e) => '.' + e);
  // Non-ASCII extensions need full Unicode case folding; the per-char fast path covers ASCII only.
  if (suffixes.some((s) => [...s].some((ch) => ch.charCodeAt(0) > 127))) {
    return (name) => {
      const lower = name.toLowerCase();
      return suffixes.some((s) => lower.endsWith(s));
    };
  }
  if (suffixes.length === 1) {
    const [suffix] = suffixes;
    return (name) => endsWithIgnoringCase(name, suffix);
  }
  return (name) => suffixes.some((s) => endsWithIgnoringCase(name, s));
}
