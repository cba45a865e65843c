import * as fs from 'node:fs';
import { runCli } from './program.js';
import { writeStdout } from './stdout-writer.js';

const code = await runCli(process.argv.slice(2), {
  stdout: (t) => writeStdout(t, 1),
  stderr: (t) => {
    try {
      fs.writeSync(2, t);
    } catch {
      // stderr gone: nothing left to tell
    }
  },
  stderrIsTTY: process.stderr.isTTY === true,
});
process.exitCode = code;
