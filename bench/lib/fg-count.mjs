// Baseline walker: streams every file under ROOT through fast-glob with stats, counts them, prints the count.
//   node bench/lib/fg-count.mjs ROOT
import fg from 'fast-glob';

const root = process.argv[2];
if (!root) {
  process.stderr.write('usage: fg-count.mjs ROOT\n');
  process.exit(2);
}
let count = 0;
for await (const entry of fg.stream('**/*', { cwd: root, stats: true, dot: true, onlyFiles: true })) {
  if (entry) count++;
}
process.stdout.write(`${count}\n`);
