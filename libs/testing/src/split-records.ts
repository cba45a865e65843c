/** Splits output into records on `sep` (NUL by default), dropping the final terminator; exact bytes, decoded as UTF-8. */
export function splitRecords(output: Buffer | string, sep = '\0'): string[] {
  const text = typeof output === 'string' ? output : output.toString('utf8');
  if (text === '') return [];
  const parts = text.split(sep);
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}
