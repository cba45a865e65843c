/**
 * A hidden entry, as on Unix: its name starts with a dot. Hidden directories are not descended.
 * `.` and `..` are not names a directory lists: met as segments of an S3 key, they are unsafe
 * names to report (E_UNSAFE_KEY where a key would become a path), not hidden ones to skip.
 */
export function isHidden(name: string): boolean {
  return name.charCodeAt(0) === 46 && name !== '.' && name !== '..';
}
