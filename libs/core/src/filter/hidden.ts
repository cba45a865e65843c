/**
 * A hidden entry, as on Unix: its name starts with a dot. Hidden directories are not descended.
 * `.` and `..` are not names a directory lists: met as segments of an S3 key, they are unsafe
 * names to report (E_UNSAFE_KEY where a key would become a path), not hidden ones to skip.
 */
export function isHidden(name: string): boolean {
  return name.charCodeAt(0) === 46 && name !== '.' && name !== '..';
}

/**
 * The name of a dedupe job's quarantine (`<root>/.filer-quarantine/<job>/…`): every walk skips an
 * entry of this name, with --hidden too, so quarantined copies are never found, grouped or moved.
 */
export const QUARANTINE_NAME = '.filer-quarantine';

/** Whether a walk skips this name: a hidden one unless `hidden`, and the quarantine always. */
export function isSkippedName(name: string, hidden: boolean): boolean {
  if (name.charCodeAt(0) !== 46) return false;
  return name === QUARANTINE_NAME || (!hidden && isHidden(name));
}
