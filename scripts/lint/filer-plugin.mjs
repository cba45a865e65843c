// The project's own ESLint rules: `filer/imports` (what a file may import, computed per project by
// ./boundaries.mjs) and `filer/no-cycle`. Both see every form of import: static, `import type`,
// `export … from`, `import()` and `import('…').T`, which ESLint's no-restricted-imports does not
// (it misses import()).
import path from 'node:path';
import { buildGraph, cycles, makeResolver, root } from './import-graph.mjs';

/** Calls `check(specifier, node)` for every import of a module in the file. */
function importVisitors(check) {
  const literal = (source, node) => {
    if (source && source.type === 'Literal' && typeof source.value === 'string') check(source.value, node);
  };
  return {
    ImportDeclaration: (n) => literal(n.source, n),
    ExportNamedDeclaration: (n) => literal(n.source, n),
    ExportAllDeclaration: (n) => literal(n.source, n),
    ImportExpression: (n) => literal(n.source, n),
    TSImportType: (n) => literal(n.source ?? n.argument?.literal, n),
  };
}

/** `name` matches itself and its subpaths; `@scope/*` matches the whole scope. */
const matches = (pattern, spec) =>
  pattern.endsWith('/*') ? spec.startsWith(pattern.slice(0, -1)) : spec === pattern || spec.startsWith(pattern + '/');

const imports = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports only what the dependency arrows of docs/architecture.md#layers allow' },
    schema: [
      {
        type: 'object',
        properties: {
          /** This file's project folder: a relative import into another project's folder is refused. */
          project: { type: 'string' },
          deny: {
            type: 'array',
            items: {
              type: 'object',
              properties: { modules: { type: 'array', items: { type: 'string' } }, why: { type: 'string' } },
              required: ['modules', 'why'],
              additionalProperties: false,
            },
          },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      denied: "'{{spec}}': {{why}}",
      crossing: "'{{spec}}' reaches into {{target}}: import it by its package name, which the layer rules check",
    },
  },
  create(context) {
    const { project, deny = [] } = context.options[0] ?? {};
    const dir = path.dirname(context.filename);
    return importVisitors((spec, node) => {
      for (const { modules, why } of deny)
        if (modules.some((m) => matches(m, spec))) return context.report({ node, messageId: 'denied', data: { spec, why } });
      if (project && spec.startsWith('.')) {
        const target = path.relative(root, path.resolve(dir, spec)).split(path.sep);
        const owner = target.slice(0, 2).join('/');
        if ((target[0] === 'apps' || target[0] === 'libs') && target.length > 2 && owner !== project)
          context.report({ node, messageId: 'crossing', data: { spec, target: owner } });
      }
    });
  },
};

/**
 * The workspace's import graph and its cycles, built once per ESLint process from the files on
 * disk (about 0.6 s for 320 files): a file's own edits count once it is saved.
 */
let analysis;
function analyse() {
  if (!analysis) {
    const resolve = makeResolver();
    const graph = buildGraph(undefined, resolve);
    const component = new Map();
    for (const comp of cycles(graph)) {
      const members = new Set(comp);
      for (const f of comp) component.set(f, members);
    }
    analysis = { graph, resolve, component };
  }
  return analysis;
}

/** The shortest import path from `from` to `to` (both ends included), inside one cycle's files. */
function pathWithin(graph, members, from, to) {
  const prev = new Map([[from, undefined]]);
  const queue = [from];
  while (queue.length > 0) {
    const f = queue.shift();
    if (f === to) break;
    for (const next of graph.get(f) ?? [])
      if (members.has(next) && !prev.has(next)) {
        prev.set(next, f);
        queue.push(next);
      }
  }
  const steps = [];
  for (let f = to; f !== undefined; f = prev.get(f)) steps.unshift(f);
  return steps;
}

const noCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'No import cycles between workspace modules, type-only imports included' },
    schema: [],
    messages: {
      cycle: 'import cycle: {{path}}. Move what both sides need into a module both import',
    },
  },
  create(context) {
    const file = path.resolve(context.filename);
    const { graph, resolve, component } = analyse();
    const members = component.get(file);
    if (!members) return {};
    return importVisitors((spec, node) => {
      const target = resolve(spec, file);
      if (!target || !members.has(target)) return;
      const steps = [file, ...pathWithin(graph, members, target, file)];
      context.report({ node, messageId: 'cycle', data: { path: steps.map((f) => path.relative(root, f)).join(' → ') } });
    });
  },
};

export default { meta: { name: 'filer' }, rules: { imports, 'no-cycle': noCycle } };
