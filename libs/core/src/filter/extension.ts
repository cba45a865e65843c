/** Normalises `--ext` values: lower case, no leading dot, no empties. */
export function normalizeExtensions(values: readonly string[]): string[] {
  return [...new Set(values.map((v) => v.trim().replace(/^\.+/, '').trim().toLowerCase()).filter((v) => v !== ''))];
}

/** Matches a base name ending in `.ext` for any of the extensions, case-insensitively (`tar.gz` works too). */
export function compileExtensionFilter(extensions: readonly string[]): ((name: string) => boolean) | undefined {
  if (extensions.length === 0) return undefined;
  const suffixes = extensions.map((e) => '.' + e);
  if (suffixes.length === 1) {
    const [suffix] = suffixes;
    return (name) => name.length > suffix.length - 1 && name.toLowerCase().endsWith(suffix);
  }
  return (name) => {
    const lower = name.toLowerCase();
    return suffixes.some((s) => lower.endsWith(s));
  };
}
