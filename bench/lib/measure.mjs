// Runs one command and measures it: wall time, peak RSS, and (optionally) how many lines it printed.
//
// Every command — filer and peers alike — is treated the same way:
//   - stdin is /dev/null;
//   - stdout goes to /dev/null ('null' mode, used for timed runs) or into a pipe whose newlines are
//     counted here ('count' mode, used for the warm-up run, so counting costs no timed run anything;
//     'capture' mode also keeps the whole text, for benchmarks that parse what a command reported);
//   - it runs in `command.cwd` when given (tools that drop report files into their working directory);
//   - it runs under GNU time (`/usr/bin/time -f %M -o FILE`) for the peak RSS when that exists,
//     otherwise (or with BENCH_RSS=proc) /proc/<pid>/status VmHWM is polled every 10 ms while it
//     runs (can miss a last-moment peak).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setInterval, clearInterval, setTimeout, clearTimeout } from 'node:timers';

export const HAS_GNU_TIME = (() => {
  if (process.env.BENCH_RSS === 'proc') return false; // force the /proc polling fallback
  try {
    fs.accessSync('/usr/bin/time', fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
})();

const RUN_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS) || 15 * 60_000;

let devNull;
let tmpDir;
let seq = 0;
const active = new Set(); // process-group ids of children still running

function cleanupAndExit(signal) {
  for (const pgid of active) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  process.exit(signal === 'SIGINT' ? 130 : 143);
}
process.once('SIGINT', cleanupAndExit);
process.once('SIGTERM', cleanupAndExit);

function readVmHWM(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * @param {{cmd: string, args: string[], env?: object, cwd?: string}} command
 * @param {'null' | 'count' | 'capture'} stdout
 * @returns {Promise<{ms: number, rssKB: number | undefined, cpuMs: number | undefined, lines: number | undefined, text: string | undefined, firstLine: string, code: number | null, signal: string | null, stderr: string}>}
 */
export function measure(command, stdout = 'null') {
  devNull ??= fs.openSync('/dev/null', 'w');
  if (tmpDir === undefined) {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-bench-'));
    process.once('exit', () => fs.rmSync(tmpDir, { recursive: true, force: true }));
  }
  const rssFile = path.join(tmpDir, `rss-${process.pid}-${seq++}`);
  const [cmd, args] = HAS_GNU_TIME
    ? ['/usr/bin/time', ['-f', '%M %U %S', '-o', rssFile, command.cmd, ...command.args]]
    : [command.cmd, command.args];

  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, {
      stdio: ['ignore', stdout === 'null' ? devNull : 'pipe', 'pipe'],
      env: command.env ? { ...process.env, ...command.env } : process.env,
      cwd: command.cwd,
      detached: true, // own process group, so a timeout or Ctrl-C can take the whole command down
    });
    let ms;
    let lines = 0;
    let firstLine = '';
    const chunks = stdout === 'capture' ? [] : undefined;
    let stderr = '';
    let polledKB = 0;
    active.add(child.pid);
    const poll = HAS_GNU_TIME ? undefined : setInterval(() => (polledKB = Math.max(polledKB, readVmHWM(child.pid))), 10);
    const timer = setTimeout(() => {
      stderr += `\n[bench] killed after ${RUN_TIMEOUT_MS} ms\n`;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, RUN_TIMEOUT_MS);

    if (stdout !== 'null') {
      child.stdout.on('data', (chunk) => {
        chunks?.push(chunk);
        if (firstLine.length < 200 && lines === 0) firstLine += chunk.toString('utf8', 0, Math.min(chunk.length, 200));
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      });
    }
    child.stderr.on('data', (chunk) => {
      if (stderr.length < 16_384) stderr += chunk.toString();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      active.delete(child.pid);
      reject(e);
    });
    child.on('exit', () => {
      ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (poll) {
        clearInterval(poll);
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      active.delete(child.pid);
      let rssKB = polledKB || undefined;
      let cpuMs;
      if (HAS_GNU_TIME) {
        try {
          const text = fs.readFileSync(rssFile, 'utf8');
          fs.rmSync(rssFile, { force: true });
          // "peakKB userSeconds systemSeconds": CPU time varies less than wall time on a shared machine.
          const stat = /^(\d+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/;
          const last = text
            .trim()
            .split('\n')
            .map((l) => stat.exec(l.trim()))
            .filter((m) => m !== null);
          const m = last[last.length - 1];
          rssKB = m ? Number(m[1]) : undefined;
          cpuMs = m ? (Number(m[2]) + Number(m[3])) * 1000 : undefined;
          // GNU time notes "Command exited with non-zero status N" in the same file; keep it visible.
          const notes = text.split('\n').filter((l) => l.trim() !== '' && !stat.test(l.trim()));
          if (notes.length > 0) stderr += notes.join('\n') + '\n';
        } catch {
          // time itself failed: no RSS
        }
      }
      ms ??= Number(process.hrtime.bigint() - t0) / 1e6;
      firstLine = firstLine.split('\n')[0];
      const text = chunks === undefined ? undefined : Buffer.concat(chunks).toString('utf8');
      resolve({ ms, rssKB, cpuMs, lines: stdout === 'null' ? undefined : lines, text, firstLine, code, signal, stderr });
    });
  });
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** "412 ms" below 10 s, "12.34 s" above. */
export function formatMs(ms) {
  if (ms === undefined || Number.isNaN(ms)) return '—';
  return ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function formatMB(kb) {
  return kb === undefined ? '—' : `${(kb / 1024).toFixed(1)} MB`;
}

export function markdownTable(header, rows) {
  const esc = (c) => String(c).replace(/\|/g, '\\|');
  return (
    [
      `| ${header.map(esc).join(' | ')} |`,
      `|${header.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
    ].join('\n') + '\n'
  );
}
