// The workspace's import graph as TypeScript resolves it (tsconfig.json: the `@filer/source` condition
// maps every @filer/* import to its src/), for the no-cycle lint rule. Every edge counts, `import type`
// and `export … from` too: a cycle of types still ties two modules into one unit. Edges to files outside
// the workspace sources (node_modules, dist) are dropped.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '../..');
const sourceDirs = ['apps', 'libs'];

/** Compiler options of tsconfig.json, read once: module resolution must match typecheck's. */
function compilerOptions() {
  const file = path.join(root, 'tsconfig.json');
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(file, ts.sys.readFile).config, ts.sys, root);
  return parsed.options;
}

/** Every .ts file under apps/*\/{src,test}, libs/*\/{src,test} and e2e/. */
export function workspaceFiles() {
  const out = [];
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name === 'node_modules' || e.name === 'dist') continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const top of sourceDirs) {
    for (const project of readdirSync(path.join(root, top))) {
      walk(path.join(root, top, project, 'src'));
      walk(path.join(root, top, project, 'test'));
    }
  }
  walk(path.join(root, 'e2e'));
  return out;
}

/** Module specifiers a file imports: static imports and re-exports, `import type`, `import()` and `import('x').T`. */
export function specifiersOf(fileName, text) {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specs = [];
  const visit = (node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      specs.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) specs.push(arg.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      specs.push(node.argument.literal.text);
    }
    // Only import() and import types hide below the top level; skip the walk where neither occurs.
    if (deep) ts.forEachChild(node, visit);
  };
  const deep = text.includes('import(');
  for (const statement of sf.statements) visit(statement);
  return specs;
}

/** Resolves specifiers the way `tsc -p tsconfig.json` does; undefined for files outside `base`'s .ts sources. */
export function makeResolver(base = root) {
  const options = compilerOptions();
  const cache = ts.createModuleResolutionCache(root, (s) => s, options);
  return (spec, fromFile) => {
    if (!spec.startsWith('.') && !spec.startsWith('@filer/')) return undefined;
    const resolved = ts.resolveModuleName(spec, fromFile, options, ts.sys, cache).resolvedModule;
    if (!resolved) return undefined;
    // @filer/* packages resolve through their node_modules links to the real src/ file.
    const file = path.resolve(resolved.resolvedFileName);
    const inWorkspace = file.startsWith(base + path.sep) && !file.includes(`${path.sep}node_modules${path.sep}`);
    return inWorkspace && file.endsWith('.ts') && !file.endsWith('.d.ts') ? file : undefined;
  };
}

/** file → the workspace files it imports. */
export function buildGraph(files = workspaceFiles(), resolve = makeResolver()) {
  const graph = new Map();
  for (const file of files) {
    const targets = new Set();
    for (const spec of specifiersOf(file, readFileSync(file, 'utf8'))) {
      const target = resolve(spec, file);
      if (target && target !== file) targets.add(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan), each sorted: the cycles to break. */
export function cycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return out;
}

export { root };
