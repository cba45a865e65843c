/** A hidden entry, as on Unix: its name starts with a dot. Hidden directories are not descended. */
export function isHidden(name: string): boolean {
  return name.charCodeAt(0) === 46;
}
