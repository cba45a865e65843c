import { runCli } from './program.js';
import { writeFully } from '@filer/storage/output';

const code = await runCli(process.argv.slice(2), {
  stdout: (t) => writeFully(1, t),
  stderr: (t) => {
    // Like stdout: a pipe Node has made non-blocking answers EAGAIN when its reader is slow, and a
    // plain writeSync would drop the line (the summary after many per-path errors went missing).
    try {
      writeFully(2, t);
    } catch {
      // stderr gone: nothing left to tell
    }
  },
  stderrIsTTY: process.stderr.isTTY === true,
});
process.exitCode = code;
