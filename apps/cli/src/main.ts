import { runCli } from './program.js';
import { writeStdout } from './stdout-writer.js';

const code = await runCli(process.argv.slice(2), {
  stdout: (t) => writeStdout(t, 1),
  stderr: (t) => {
    // Like stdout: a pipe Node has made non-blocking answers EAGAIN when its reader is slow, and a
    // plain writeSync would drop the line (the summary after many per-path errors went missing).
    try {
      writeStdout(t, 2);
    } catch {
      // stderr gone: nothing left to tell
    }
  },
  stderrIsTTY: process.stderr.isTTY === true,
});
process.exitCode = code;
