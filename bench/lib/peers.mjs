// The peer tools every benchmark runs beside filer: their versions, and installing the missing ones.
import { spawnSync } from 'node:child_process';
import { onPath } from './env.mjs';

/** The first non-empty line a tool prints for its version (colours stripped), or 'unknown'. */
export function versionOf(cmd, args = ['--version']) {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    // eslint-disable-next-line no-control-regex
    const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.replace(/\x1b\[[0-9;]*m/g, '');
    return (
      text
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l !== '') ?? 'unknown'
    );
  } catch {
    return 'unknown';
  }
}

/**
 * Installs missing peers with apt-get (root only, unless BENCH_NO_INSTALL=1). `packages` maps each
 * binary to its Debian package; `bench` names the benchmark in the log. Returns bin → path, or
 * undefined for a peer that is still missing (its figures are then reported as n/a).
 */
export function ensurePeers(bench, packages, wanted, log) {
  const found = () => Object.fromEntries(wanted.map((b) => [b, onPath(b)]));
  let have = found();
  const missing = () => wanted.filter((b) => !have[b]);
  if (missing().length === 0) return have;
  const canInstall = process.env.BENCH_NO_INSTALL !== '1' && process.getuid?.() === 0 && onPath('apt-get');
  if (!canInstall) {
    const why = process.env.BENCH_NO_INSTALL === '1' ? 'BENCH_NO_INSTALL=1' : 'not root or no apt-get';
    log(`${bench}: ${missing().join(', ')} not installed (and not installing: ${why}): n/a`);
    return have;
  }
  const apt = (...args) => {
    log(`  $ apt-get ${args.join(' ')}`);
    const r = spawnSync('apt-get', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 10 * 60_000,
    });
    if (r.status !== 0) log(`    (apt-get exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').pop()})`);
    return r.status === 0;
  };
  const install = (bins) => apt('install', '-y', '-q', '--no-install-recommends', ...bins.map((b) => packages[b]));
  log(`${bench}: installing missing peers: ${missing().join(', ')}`);
  if (!install(missing())) {
    apt('update', '-q');
    for (const b of missing()) install([b]);
  }
  have = found();
  if (missing().length > 0) log(`${bench}: could not install ${missing().join(', ')}: n/a`);
  return have;
}
