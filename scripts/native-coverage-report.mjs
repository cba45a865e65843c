// Reads gcov's JSON (`gcov --json-format --stdout -b …`, one document per object file) on stdin and
// prints line, branch and function coverage of the native addon's own sources, the least-covered
// functions, and the total line coverage against the floor in FLOOR_FILE: exit 1 below it.
//   gcov … | node scripts/native-coverage-report.mjs libs/fs-scan/coverage-floor.txt
import { readFileSync } from 'node:fs';

// The addon's own sources, as binding.gyp lists them (relative to libs/fs-scan).
const SOURCES = JSON.parse(readFileSync(new URL('../libs/fs-scan/binding.gyp', import.meta.url), 'utf8')).targets[0].sources;
const floorFile = process.argv[2];
const floor = Number(/^\s*([\d.]+)/m.exec(readFileSync(floorFile, 'utf8').replace(/^#.*$/gm, ''))?.[1]);
if (!Number.isFinite(floor)) throw new Error(`${floorFile}: no line-coverage floor (a percentage) found`);

const docs = readFileSync(0, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l));

/** Per source: lines (number → count, the largest where gcov lists a line twice), branches, functions. */
const files = new Map(SOURCES.map((s) => [s, { lines: new Map(), branches: [0, 0], functions: new Map() }]));
for (const doc of docs)
  for (const f of doc.files) {
    const source = SOURCES.find((s) => f.file.endsWith(s));
    if (!source) continue; // vendored xxhash.h, system headers
    const acc = files.get(source);
    for (const l of f.lines) {
      acc.lines.set(l.line_number, Math.max(acc.lines.get(l.line_number) ?? 0, l.count));
      for (const b of l.branches) {
        acc.branches[0] += b.count > 0 ? 1 : 0;
        acc.branches[1] += 1;
      }
      const fn = acc.functions.get(l.function_name) ?? { hit: 0, all: 0 };
      fn.hit += l.count > 0 ? 1 : 0;
      fn.all += 1;
      acc.functions.set(l.function_name, fn);
    }
  }

const pct = (hit, all) => (all === 0 ? 100 : (100 * hit) / all);
const fmt = (hit, all) => `${pct(hit, all).toFixed(1).padStart(5)} % (${hit}/${all})`;
let hitAll = 0;
let linesAll = 0;
const worst = [];
console.log('native addon coverage (gcov):');
for (const [source, acc] of files) {
  if (acc.lines.size === 0) throw new Error(`${source}: gcov reported no lines (was the coverage build run?)`);
  const hit = [...acc.lines.values()].filter((c) => c > 0).length;
  const fns = [...acc.functions.values()];
  hitAll += hit;
  linesAll += acc.lines.size;
  console.log(
    `  ${source.padEnd(22)} lines ${fmt(hit, acc.lines.size)}   branches ${fmt(...acc.branches)}   functions ${fmt(fns.filter((f) => f.hit > 0).length, fns.length)}`,
  );
  for (const [name, f] of acc.functions) if (f.hit < f.all) worst.push({ name: `${source}:${name}`, ...f });
}
worst.sort((a, b) => pct(a.hit, a.all) - pct(b.hit, b.all) || b.all - a.all);
console.log('  least covered functions (lines):');
for (const w of worst.slice(0, 10)) console.log(`    ${w.name.padEnd(40)} ${fmt(w.hit, w.all)}`);
const total = pct(hitAll, linesAll);
console.log(`  total lines ${fmt(hitAll, linesAll)}; floor ${floor} % (${floorFile})`);
if (total < floor) {
  console.error(`native-coverage: line coverage ${total.toFixed(1)} % is below the floor of ${floor} %`);
  process.exit(1);
}
