// A vitest reporter (beside the default one, vitest.config.ts) that names every skipped test at
// the end of a run, so that no test is skipped silently: in the portable leg
// (FILER_FS_SCAN_ADDON=off) these are the native addon's own tests; anywhere else the list should
// be empty, or say why (ctx.skip(note)).
import * as path from 'node:path';
import process from 'node:process';

export default class SkippedTestsReporter {
  /** @param {ReadonlyArray<import('vitest/node').TestModule>} testModules */
  onTestRunEnd(testModules) {
    const skipped = [];
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const result = test.result();
        if (result.state !== 'skipped') continue;
        const note = (test.options.mode === 'todo' ? ' [todo]' : '') + (result.note ? ` (${result.note})` : '');
        skipped.push(`  ${path.relative(process.cwd(), mod.moduleId)}: ${test.fullName}${note}`);
      }
    }
    if (skipped.length === 0) return;
    const why = process.env.FILER_FS_SCAN_ADDON === 'off' ? ', native addon disabled (FILER_FS_SCAN_ADDON=off)' : '';
    process.stdout.write(`\nSkipped tests (${skipped.length}${why}):\n${skipped.join('\n')}\n`);
  }
}
