import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A regular file: its content, or exactly `size` bytes (content repeated, or filler); optional mtime and mode. */
export interface FileNode {
  kind: 'file';
  content?: string | Buffer;
  size?: number;
  mtime?: Date | number;
  mode?: number;
}

/** A directory (parents are created implicitly; list one to make it empty or to set its mode). */
export interface DirNode {
  kind: 'dir';
  mtime?: Date | number;
  mode?: number;
}

/** A symbolic link whose target is written exactly as given (relative to the link's directory or absolute). */
export interface SymlinkNode {
  kind: 'symlink';
  target: string;
}

/** One entry of a tree spec; a bare string is a file with that content. */
export type TreeNode = string | FileNode | DirNode | SymlinkNode;

/** Relative path (with `/` separators) → node. Names may hold any byte but `/` and NUL. */
export type TreeSpec = Record<string, TreeNode>;

/** A temp tree on disk: its root, a path helper and a cleanup that also undoes restrictive modes. */
export interface TempTree {
  root: string;
  path: (rel: string) => string;
  cleanup: () => void;
}

/** Options for `makeTree`: where to create the temp dir and the mode of its root. */
export interface MakeTreeOptions {
  parent?: string;
  prefix?: string;
  rootMode?: number;
}

/** Shorthand for a file node. */
export const file = (content: string | Buffer = '', extra: Omit<FileNode, 'kind' | 'content'> = {}): FileNode => ({
  kind: 'file',
  content,
  ...extra,
});

/** Shorthand for a directory node. */
export const dir = (extra: Omit<DirNode, 'kind'> = {}): DirNode => ({ kind: 'dir', ...extra });

/** Shorthand for a symlink node. */
export const symlink = (target: string): SymlinkNode => ({ kind: 'symlink', target });

function toNode(node: TreeNode): FileNode | DirNode | SymlinkNode {
  return typeof node === 'string' ? { kind: 'file', content: node } : node;
}

function fileBytes(node: FileNode): Buffer {
  const content =
    node.content === undefined ? Buffer.alloc(0) : Buffer.isBuffer(node.content) ? node.content : Buffer.from(node.content, 'utf8');
  // `size` wins: the content is repeated or cut to fit (filler 'a' when there is none).
  if (node.size === undefined) return content;
  return Buffer.alloc(node.size, content.length > 0 ? content : 'a');
}

/** Creates a fresh temp dir (mode 0755 by default) holding `spec`; mtimes and modes are applied last. */
export function makeTree(spec: TreeSpec, opts: MakeTreeOptions = {}): TempTree {
  const root = fs.mkdtempSync(path.join(opts.parent ?? os.tmpdir(), opts.prefix ?? 'filer-test-'));
  fs.chmodSync(root, opts.rootMode ?? 0o755);
  const at = (rel: string): string => path.join(root, ...rel.split('/'));
  const entries = Object.entries(spec).map(([rel, node]) => [rel, toNode(node)] as const);
  const late: [depth: number, apply: () => void][] = [];
  for (const [rel, node] of entries) {
    const p = at(rel);
    if (node.kind === 'dir') fs.mkdirSync(p, { recursive: true });
    else fs.mkdirSync(path.dirname(p), { recursive: true });
  }
  for (const [rel, node] of entries) {
    const p = at(rel);
    if (node.kind === 'file') {
      fs.writeFileSync(p, fileBytes(node));
      if (node.mtime !== undefined) fs.utimesSync(p, node.mtime, node.mtime);
      if (node.mode !== undefined) fs.chmodSync(p, node.mode);
    } else if (node.kind === 'symlink') {
      fs.symlinkSync(node.target, p);
    } else {
      // Directory times and modes last: creating children would change the time, a mode could block it.
      late.push([
        rel.split('/').length,
        () => {
          if (node.mtime !== undefined) fs.utimesSync(p, node.mtime, node.mtime);
          if (node.mode !== undefined) fs.chmodSync(p, node.mode);
        },
      ]);
    }
  }
  // Deepest directories first, so a restrictive parent mode cannot get in the way of a child.
  late.sort((a, b) => b[0] - a[0]).forEach(([, apply]) => apply());
  const cleanup = (): void => {
    restoreModes(root);
    fs.rmSync(root, { recursive: true, force: true });
  };
  return { root, path: at, cleanup };
}

function restoreModes(dirPath: string): void {
  let names: fs.Dirent[];
  try {
    fs.chmodSync(dirPath, 0o755);
    names = fs.readdirSync(dirPath, { withFileTypes: true });
  } catch {
    return;
  }
  for (const d of names) if (d.isDirectory()) restoreModes(path.join(dirPath, d.name));
}
