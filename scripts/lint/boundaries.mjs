// Turns the layer table of eslint.config.js into per-project `filer/imports` settings, reading each
// workspace's nx tag and declared @filer/* dependencies from its package.json. A workspace without a
// known tag, a declared dependency the arrows forbid, or a stale file exception stops ESLint with an
// error that names it, so the table cannot silently drift from the projects.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { root } from './import-graph.mjs';

const readJson = (file) => JSON.parse(readFileSync(path.join(root, file), 'utf8'));
const layersDoc = 'docs/architecture.md#layers';

/** The workspaces of the root package.json: name, folder, nx tag, declared @filer/* dependencies. */
export function workspaceProjects() {
  return readJson('package.json').workspaces.map((dir) => {
    const pkg = readJson(`${dir}/package.json`);
    const tags = (pkg.nx?.tags ?? []).filter((t) => t.startsWith('type:'));
    if (tags.length !== 1) throw new Error(`${dir}/package.json: needs exactly one nx tag type:*, has ${JSON.stringify(tags)}`);
    const declared = (deps) => Object.keys(deps ?? {}).filter((d) => d.startsWith('@filer/'));
    return { name: pkg.name, dir, tag: tags[0], deps: declared(pkg.dependencies), devDeps: declared(pkg.devDependencies) };
  });
}

/**
 * The @filer/* packages each project may import (its own aside): those whose tag its tag's arrows
 * list, narrowed within a tag by `within` and by `without`.
 */
export function allowedImports(projects, { arrows, within, without }) {
  const allowed = new Map();
  for (const p of projects) {
    if (!(p.tag in arrows)) throw new Error(`${p.dir}/package.json: tag ${p.tag} has no arrows in eslint.config.js`);
    const inTag = within[p.tag];
    if (inTag && !(p.name in inTag)) throw new Error(`eslint.config.js: ${p.name} (${p.tag}) is missing from the arrows within ${p.tag}`);
    const ok = projects.filter(
      (q) =>
        q !== p &&
        arrows[p.tag].includes(q.tag) &&
        (q.tag !== p.tag || !inTag || inTag[p.name].includes(q.name)) &&
        !(without[p.name] ?? []).includes(q.name),
    );
    allowed.set(
      p.name,
      ok.map((q) => q.name),
    );
  }
  return allowed;
}

/** Flat-config objects setting `filer/imports` for every file of every workspace project. */
export function boundaryConfigs({ arrows, within = {}, without = {}, frameworks = [], fs }) {
  const projects = workspaceProjects();
  const allowed = allowedImports(projects, { arrows, within, without });
  const testing = projects.filter((p) => p.tag === 'type:testing').map((p) => p.name);
  const configs = [];
  for (const p of projects) {
    const ok = allowed.get(p.name);
    const mayTest = p.tag === 'type:testing';
    for (const d of p.deps.concat(p.devDeps))
      if (!ok.includes(d) && !(testing.includes(d) && p.devDeps.includes(d)))
        throw new Error(`${p.dir}/package.json depends on ${d}, which the arrows of ${p.tag} do not allow (${layersDoc})`);
    const layer = {
      modules: projects.filter((q) => q !== p && !ok.includes(q.name) && !testing.includes(q.name)).map((q) => q.name),
      why: `${p.dir} (${p.tag}) may import ${ok.length > 0 ? `only ${ok.join(', ')}` : 'no @filer/* package'} (${layersDoc})`,
    };
    const helpers = { modules: testing, why: 'test helpers: only test/ and *.spec.ts files import them' };
    const io = frameworks.filter((f) => f.for.includes(p.tag) || f.for.includes(p.name)).map(({ modules, why }) => ({ modules, why }));
    const exceptions = fs.exceptions.filter((f) => f.startsWith(p.dir + '/'));
    const fsRule = fs.allowedIn.includes(p.dir) ? [] : [{ modules: fs.modules, why: fs.why }];
    const rule = (deny) => ({ 'filer/imports': ['error', { project: p.dir, deny: deny.filter((d) => d.modules.length > 0) }] });
    const tests = [`${p.dir}/test/**/*.ts`, `${p.dir}/src/**/*.spec.ts`];
    configs.push({ files: [`${p.dir}/**/*.ts`], rules: rule([layer, ...(mayTest ? [] : [helpers]), ...io, ...fsRule]) });
    configs.push({ files: tests, rules: rule([layer]) });
    if (exceptions.length > 0) configs.push({ files: exceptions, rules: rule([layer, helpers, ...io]) });
  }
  for (const file of fs.exceptions) {
    const text = existsSync(path.join(root, file)) ? readFileSync(path.join(root, file), 'utf8') : '';
    if (!fs.modules.some((m) => new RegExp(`(from |import\\()'${m}(/[^']*)?'`).test(text)))
      throw new Error(`eslint.config.js: ${file} is listed as a file-system exception but imports no ${fs.modules.join('/')}: remove it`);
  }
  return configs;
}
