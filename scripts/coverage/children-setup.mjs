// A vitest setup file (vitest.config.ts), used when scripts/test.sh measures coverage: the node
// processes the tests start (the CLI, the API, the workers) write their V8 coverage into
// FILER_CHILD_COVERAGE, read afterwards by c8 (scripts/coverage/report.mjs). Set here, in each test
// worker's environment, rather than for vitest itself: the workers' own coverage is vitest's.
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const dir = process.env.FILER_CHILD_COVERAGE;
if (dir) {
  process.env.NODE_V8_COVERAGE = dir;
  const preload = `--require=${fileURLToPath(new URL('./flush-on-signal.cjs', import.meta.url))}`;
  if (!process.env.NODE_OPTIONS?.includes(preload)) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${preload}`.trim();
}
