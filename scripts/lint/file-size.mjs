// Source files stay small (docs/architecture.md#module-size): at most MAX_LINES lines, counted as
// `wc -l` counts them (blank lines and comments included). ESLint's `max-lines` checks the
// TypeScript (eslint.config.js, through maxLinesConfigs); this script checks the C of the native
// addon, which ESLint does not read:
//   node scripts/lint/file-size.mjs        (run by `npm run lint`; exit 1 naming each file too long)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAX_LINES = 400;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Lines as `wc -l` counts them: newline characters. */
export function lineCount(text) {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Flat-config objects setting `max-lines` for `files` (tests and `ignores` aside). `exceptions` are
 * files still over the limit, each allowed for a reason given where it is listed; one that is no
 * longer over it stops ESLint, so the list stays true.
 */
export function maxLinesConfigs({ files, ignores, exceptions }) {
  for (const file of exceptions) {
    const full = path.join(root, file);
    if (!existsSync(full) || lineCount(readFileSync(full, 'utf8')) <= MAX_LINES)
      throw new Error(`eslint.config.js: ${file} is listed as a file over ${MAX_LINES} lines but is not (any more): remove it`);
  }
  return [
    {
      files,
      ignores: [...ignores, ...exceptions],
      rules: { 'max-lines': ['error', { max: MAX_LINES, skipBlankLines: false, skipComments: false }] },
    },
  ];
}

/** The C sources and headers of libs/<project>/src and apps/<project>/src (vendored code lives outside src/ and is skipped anyway). */
function nativeSources(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'vendor' && e.name !== 'node_modules' && e.name !== 'build') out.push(...nativeSources(p));
    } else if (/\.(c|h|cc|cpp|hpp)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Every native source under `base` (in libs/<project>/src and apps/<project>/src) over MAX_LINES: [path relative to base, lines]. */
export function oversizedNativeSources(base = root) {
  const found = [];
  for (const top of ['libs', 'apps']) {
    if (!existsSync(path.join(base, top))) continue;
    for (const project of readdirSync(path.join(base, top))) {
      const src = path.join(base, top, project, 'src');
      if (!existsSync(src)) continue;
      for (const file of nativeSources(src)) {
        const lines = lineCount(readFileSync(file, 'utf8'));
        if (lines > MAX_LINES) found.push([path.relative(base, file), lines]);
      }
    }
  }
  return found;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const found = oversizedNativeSources();
  for (const [file, lines] of found)
    console.error(`${file}: ${lines} lines, more than ${MAX_LINES}: split it into modules with one job each (docs/architecture.md)`);
  if (found.length > 0) process.exit(1);
}
