// The dupes invocations beside `jdupes -r` on the same roots: one root, two roots (the corpus split
// in two), overlapping roots (the corpus and one of its top directories) and a filtered run (--ext
// and --min-size, jdupes' -X onlyext / size+=), each as a first run (empty cache) and a warm rerun.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatMs, markdownTable } from './measure.mjs';

/** Extensions only the corpus' media kind uses, in lower case only (jdupes compares them case-sensitively). */
const FILTER_EXTS = ['pdf', 'mp3'];
const FILTER_MIN = 64 * 1024;

/**
 * The corpus split in two roots: its top directories hard-linked (cp -al) into `<root>-split/a` and
 * `…/b`, half each. Made once beside the corpus; the same inodes, so the page cache stays warm.
 */
function ensureSplit(root, log) {
  const split = `${root}-split`;
  const done = path.join(split, '.complete');
  const tops = fs.readdirSync(root).sort();
  const halves = [tops.slice(0, Math.ceil(tops.length / 2)), tops.slice(Math.ceil(tops.length / 2))];
  if (!fs.existsSync(done)) {
    fs.rmSync(split, { recursive: true, force: true });
    log(`dupes invocations: hard-linking the corpus into two roots under ${split}`);
    ['a', 'b'].forEach((half, k) => {
      fs.mkdirSync(path.join(split, half), { recursive: true });
      execFileSync('cp', ['-al', ...halves[k].map((t) => path.join(root, t)), path.join(split, half)]);
    });
    fs.writeFileSync(done, '');
  }
  return { a: path.join(split, 'a'), b: path.join(split, 'b'), firstTop: tops[0], map: (p) => mapToSplit(p, root, split, halves) };
}

function mapToSplit(p, root, split, halves) {
  const rel = path.relative(root, p);
  const top = rel.split(path.sep)[0];
  return path.join(split, halves[0].includes(top) ? 'a' : 'b', rel);
}

/** The generator's groups as the filter sees them: members with a listed extension and at least the size. */
function filteredTruth(expected) {
  const out = [];
  for (const g of expected) {
    const kept = g.filter((p) => FILTER_EXTS.includes(path.extname(p).slice(1)) && fs.statSync(p).size >= FILTER_MIN);
    if (kept.length > 1) out.push(kept);
  }
  return out;
}

/**
 * Times the invocations and checks filer's groups (against jdupes' where both report each file
 * once, and against the generator's). Returns the markdown section and the problems found.
 */
export async function runInvocations(ctx) {
  const { root, expected, jdupes, filerBin, scratch, runs, warmups, log, failures, timeCases, parseFilerText, parseJdupes, compareGroups } =
    ctx;
  const split = ensureSplit(root, log);
  const problems = [];
  const flags = ['--hidden', '--no-ignore'];
  const filterFlags = ['--ext', FILTER_EXTS.join(','), '--min-size', `${FILTER_MIN / 1024}Ki`];
  const invocations = [
    { key: 'one', label: 'one root', roots: [root], shown: 'C', truth: expected, jdupesSame: true },
    {
      key: 'two',
      label: 'two roots',
      roots: [split.a, split.b],
      shown: 'A B',
      truth: expected.map((g) => g.map(split.map)),
      jdupesSame: true,
    },
    // jdupes lists a file under both roots (as a hard link of itself): its groups are not compared.
    {
      key: 'overlap',
      label: 'overlapping roots',
      roots: [root, path.join(root, split.firstTop)],
      shown: `C C/${split.firstTop}`,
      truth: expected,
    },
    {
      key: 'filtered',
      label: 'filtered',
      roots: [root],
      shown: `C ${filterFlags.join(' ')}`,
      extra: filterFlags,
      jdupesExtra: ['-X', `onlyext:${FILTER_EXTS.join(',')}`, '-X', `size+=:${FILTER_MIN / 1024}k`],
      truth: filteredTruth(expected),
      jdupesSame: true,
    },
  ];
  const cases = [];
  for (const inv of invocations) {
    const db = { first: path.join(scratch, `inv-${inv.key}-first.db`), warm: path.join(scratch, `inv-${inv.key}-warm.db`) };
    const reset = (file) => () => ['', '-wal', '-shm', '-journal'].forEach((s) => fs.rmSync(file + s, { force: true }));
    const filer = (file, shownDb) => ({
      cmd: process.execPath,
      args: [filerBin, 'dupes', ...inv.roots, ...flags, ...(inv.extra ?? []), '--cache', file],
      display: `filer dupes ${inv.shown} ${flags.join(' ')} --cache ${shownDb}`,
    });
    inv.cases = {
      jdupes: {
        label: `${inv.label}: jdupes`,
        cmd: {
          cmd: jdupes,
          args: ['-r', ...(inv.jdupesExtra ?? []), ...inv.roots],
          display: `jdupes -r ${(inv.jdupesExtra ?? []).join(' ')} ${inv.shown.split(' --')[0]}`,
        },
        parse: (text) => ({ groups: parseJdupes(text) }),
      },
      first: { label: `${inv.label}: filer first run`, cmd: filer(db.first, 'EMPTY.db'), before: reset(db.first), parse: parseFilerText },
      warm: { label: `${inv.label}: filer warm rerun`, cmd: filer(db.warm, 'FILLED.db'), parse: parseFilerText },
    };
    reset(db.warm)();
    // Fills the warm rerun's cache (untimed).
    execFileSync(process.execPath, [...filer(db.warm).args], { stdio: 'ignore' });
    cases.push(inv.cases.jdupes, inv.cases.first, inv.cases.warm);
  }
  log(`dupes invocations: ${cases.length} commands, ${warmups} warm-up + ${runs} timed runs each`);
  await timeCases(cases, { runs, warmups, log, failures });
  const rows = [];
  for (const inv of invocations) {
    const { jdupes: j, first, warm } = inv.cases;
    for (const [c, target] of [
      [first, 1.0],
      [warm, 0.3],
    ]) {
      const ratio = j.res.failed ? undefined : c.res.median / j.res.median;
      const groups = c.parsed?.groups;
      const vsTruth = groups && compareGroups(groups, inv.truth);
      const vsJdupes = groups && inv.jdupesSame && j.parsed?.groups ? compareGroups(groups, j.parsed.groups) : undefined;
      if (!vsTruth?.equal)
        problems.push(
          `${c.label}: groups differ from the generator's (${vsTruth ? `${vsTruth.onlyA} only here, ${vsTruth.onlyB} only there` : 'none parsed'})`,
        );
      if (vsJdupes && !vsJdupes.equal)
        problems.push(`${c.label}: groups differ from jdupes' (${vsJdupes.onlyA} only here, ${vsJdupes.onlyB} only in jdupes')`);
      const cpuRatio = c.res.cpuMedian !== undefined && j.res.cpuMedian > 0 ? c.res.cpuMedian / j.res.cpuMedian : undefined;
      rows.push([
        c.label,
        formatMs(c.res.median),
        formatMs(j.res.median),
        ratio === undefined ? 'n/a' : ratio.toFixed(2),
        cpuRatio === undefined ? 'n/a' : `${formatMs(c.res.cpuMedian)} / ${formatMs(j.res.cpuMedian)} = ${cpuRatio.toFixed(2)}`,
        `≤ ${target.toFixed(1)}`,
        c.res.failed ? '**FAILED RUNS**' : ratio === undefined ? 'n/a' : ratio <= target ? 'yes' : '**NO**',
        vsTruth?.equal
          ? vsJdupes === undefined
            ? 'equal (generator)'
            : vsJdupes.equal
              ? 'equal (generator, jdupes)'
              : '**DIFFER (jdupes)**'
          : '**DIFFER**',
        '`' + c.cmd.display + '`',
      ]);
    }
  }
  const section = [
    '## Invocations beside jdupes (same roots, same run)',
    '',
    `C = corpus root; A, B = the corpus split in two roots (its top directories hard-linked, half each); filter = extensions ${FILTER_EXTS.join(', ')} and at least ${FILTER_MIN / 1024} KiB (jdupes: \`-X onlyext\`, \`-X size+=\`). ` +
      'Each row: filer median, jdupes -r median on the same roots from the same rounds (filer and jdupes runs interleaved, order rotated), their ratio (the target is on it), ' +
      'and beside it the medians of CPU time (user + system, GNU time), which a shared machine disturbs less than wall time.',
    '',
    markdownTable(
      ['case', 'filer median', 'jdupes median', 'ratio', 'CPU (user+sys) filer / jdupes', 'target', 'met?', 'groups', 'command'],
      rows,
    ),
  ];
  return { markdown: section, problems, cases };
}
