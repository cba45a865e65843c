import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import fg from 'fast-glob';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { QUEUE_PREFIX, WORKER_QUEUES } from '@filer/jobs';
import vitestConfig from '../vitest.config.ts';

/*
 * The deployment files against the code: every environment variable the apps read (found by
 * reading their sources now, so a new variable fails this test until it is deployed and
 * documented) is set in docker-compose.yml, listed in the Helm chart's values and documented in
 * docs/operations.md, and those files name no variable the apps do not read. Variables read only
 * by the CLI (apps/cli) are exempt from compose and the chart, whose processes do not read them;
 * the docs list them too. Then the files are checked with the tools that exist here: Debian's
 * docker-compose and yamllint, Helm (lint and template), and the rendered manifests against the
 * Kubernetes schemas of the kubernetes-models packages. With CI=true a missing tool fails the test.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHART = 'deploy/helm/filer';

const read = (rel: string): string => fs.readFileSync(path.join(ROOT, rel), 'utf8');
const VAR = /(?<![A-Za-z0-9_])FILER_[A-Z0-9_]*[A-Z0-9]/g;
const namesIn = (text: string): Set<string> => new Set(text.match(VAR) ?? []);
const missing = (want: Iterable<string>, have: Set<string>): string[] => [...want].filter((v) => !have.has(v)).sort();

// ---------------------------------------------------------------------------------------------
// What the apps read

/** Ways the sources read a variable: env.X / process.env.X / env['X'] / a quoted name (envInt('X', …)). */
const READS = [
  /\benv\s*(?:\?\.)?\s*\.\s*(FILER_[A-Z0-9_]+)/g,
  /\benv\s*\[\s*['"`](FILER_[A-Z0-9_]+)['"`]\s*\]/g,
  /['"`](FILER_[A-Z0-9_]+)['"`]/g,
];
const DESTRUCTURED = /\{([^{}]*)\}\s*=\s*(?:process\.)?env\b/g;

/** Every FILER_* variable the apps and libs read, with the source files that read it. */
function appVariables(): Map<string, Set<string>> {
  const files = fg.sync(
    ['apps/*/src/**/*.{ts,js,mjs,cjs}', 'apps/*/bin/**/*.{js,mjs,cjs}', 'libs/*/src/**/*.{ts,js,mjs,cjs}', 'libs/*/*.{js,mjs,cjs}'],
    { cwd: ROOT, ignore: ['**/*.spec.ts', '**/*.test.ts', 'libs/testing/**', '**/node_modules/**', '**/dist/**'] },
  );
  const vars = new Map<string, Set<string>>();
  const add = (name: string, file: string): void => {
    if (!vars.has(name)) vars.set(name, new Set());
    vars.get(name)!.add(file);
  };
  for (const file of files) {
    const text = read(file);
    for (const re of READS) for (const m of text.matchAll(re)) add(m[1], file);
    for (const m of text.matchAll(DESTRUCTURED)) for (const name of namesIn(m[1])) add(name, file);
  }
  return vars;
}

const APP_VARS = appVariables();
const ALL = new Set(APP_VARS.keys());
/** Read only by the CLI: configure the `filer` command, never the API or the workers. */
const CLI_ONLY = new Set([...APP_VARS].filter(([, files]) => [...files].every((f) => f.startsWith('apps/cli/'))).map(([v]) => v));
/** Read only for the test tooling (scripts/native-*.sh load other builds of the addon): documented, never deployed. */
const TOOLING = new Set(['FILER_FS_SCAN_ADDON']);
const SERVICE = new Set([...ALL].filter((v) => !CLI_ONLY.has(v) && !TOOLING.has(v)));

// ---------------------------------------------------------------------------------------------
// Tools

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir, name);
    if (dir !== '' && fs.existsSync(p)) return p;
  }
  return undefined;
}

/** A tool's path: absent fails the test that needs it (never skips it). */
function tool(name: string, found: string | undefined): string {
  if (found === undefined) throw new Error(`${name} is missing: \`npm test\` installs it (scripts/install-test-tools.sh)`);
  return found;
}

function run(cmd: string, args: string[]): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

// scripts/install-test-tools.sh links Helm as node_modules/.bin/helm, on PATH under npm test and npx.
const helm = (): string => tool('helm', process.env.HELM_BIN || which('helm'));

// ---------------------------------------------------------------------------------------------

describe('the variables the apps read', () => {
  it('are found in the sources', () => {
    // If these go missing, the search above broke, not the deployment files.
    for (const v of ['FILER_REDIS_URL', 'FILER_RESULTS_DIR', 'FILER_ALLOWED_ROOTS', 'FILER_TOKENS', 'FILER_API_PORT', 'FILER_WORKER_PORT'])
      expect(SERVICE.has(v), v).toBe(true);
    for (const v of ['FILER_SERVER', 'FILER_TOKEN', 'FILER_NATIVE_SCAN']) expect(CLI_ONLY.has(v), v).toBe(true);
  });
});

type ComposeService = {
  environment?: Record<string, unknown> | string[];
  env_file?: string | (string | { path: string })[];
  volumes?: string[];
  command?: string[] | string;
  scale?: number;
  deploy?: { replicas?: number };
  stop_grace_period?: string;
  depends_on?: unknown;
};

/** A service's variables: its environment plus its env files. */
function composeEnv(svc: ComposeService): Map<string, string> {
  const env = new Map<string, string>();
  const files = svc.env_file === undefined ? [] : Array.isArray(svc.env_file) ? svc.env_file : [svc.env_file];
  for (const f of files) {
    for (const line of read(typeof f === 'string' ? f : f.path).split('\n')) {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
      if (m) env.set(m[1], m[2]);
    }
  }
  if (Array.isArray(svc.environment)) {
    for (const kv of svc.environment) env.set(kv.split('=')[0], kv.slice(kv.indexOf('=') + 1));
  } else {
    for (const [k, v] of Object.entries(svc.environment ?? {})) env.set(k, String(v));
  }
  return env;
}

const seconds = (d: string): number => {
  const m = /^(\d+)(ms|s|m)$/.exec(d);
  if (!m) throw new Error(`unexpected duration ${d}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60 }[m[2] as 'ms' | 's' | 'm'];
};

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
  const services = compose.services;
  const APPS = ['api', 'scanner-worker', 'batch-worker'];
  const envs = Object.fromEntries(Object.entries(services).map(([name, svc]) => [name, composeEnv(svc)]));

  it('sets every variable the API and the workers read, and only variables the apps read', () => {
    const set = new Set(APPS.flatMap((s) => [...envs[s].keys()]));
    expect(missing(SERVICE, set), 'read by the apps, set by no compose service').toEqual([]);
    const envFiles = Object.values(services).flatMap((s) => (s.env_file === undefined ? [] : [s.env_file].flat()));
    const named = namesIn([read('docker-compose.yml'), ...envFiles.map((f) => read(typeof f === 'string' ? f : f.path))].join('\n'));
    expect(missing(named, ALL), 'named in compose, read by no app').toEqual([]);
    for (const s of APPS)
      expect(
        missing(
          [...envs[s].keys()].filter((k) => k.startsWith('FILER_')),
          SERVICE,
        ),
        s,
      ).toEqual([]);
  });

  it('runs Redis with AOF and noeviction, two scanner workers and a batch worker', () => {
    const redis = (services.redis.command as string[]).join(' ');
    expect(redis).toMatch(/--appendonly yes/);
    expect(redis).toMatch(/--maxmemory-policy noeviction/);
    expect(services['scanner-worker'].scale ?? services['scanner-worker'].deploy?.replicas).toBe(2);
    for (const s of APPS) expect(services[s].command).toEqual([s]);
    expect(envs.api.get('FILER_TOKENS'), 'tokens come from the env file').toBeTruthy();
    expect(services.api.environment).not.toHaveProperty('FILER_TOKENS');
    expect(String((services['minio-init'].command as string[]).join(' '))).toMatch(/mc mb --ignore-existing local\/\w+/);
  });

  it('shares one results volume and mounts every allowed root in the API and the workers', () => {
    // SOURCE:TARGET[:MODE], where SOURCE may be ${VAR:-default}.
    const mounts = (s: string): Map<string, string> =>
      new Map((services[s].volumes ?? []).map((v) => /^(\$\{[^}]*\}|[^:]+):([^:]+)/.exec(v)!).map((m) => [m[2], m[1]] as [string, string]));
    const results = new Set(APPS.map((s) => mounts(s).get(envs[s].get('FILER_RESULTS_DIR')!)));
    expect([...results]).toEqual(['results']);
    for (const s of APPS)
      for (const r of envs[s].get('FILER_ALLOWED_ROOTS')!.split(':')) expect(mounts(s).has(r), `${s} mounts ${r}`).toBe(true);
  });

  it('gives workers time to finish their shards before Docker kills them', () => {
    for (const s of ['scanner-worker', 'batch-worker']) {
      expect(Number(envs[s].get('FILER_SHUTDOWN_TIMEOUT_MS')) / 1000).toBeLessThan(seconds(services[s].stop_grace_period ?? '10s'));
    }
  });

  it('passes `docker-compose config`', () => {
    const compose = tool('docker-compose', which('docker-compose'));
    const r = run(compose, ['-f', 'docker-compose.yml', 'config', '-q']);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('the Helm chart', () => {
  const values = parse(read(`${CHART}/values.yaml`)) as Record<string, unknown>;
  const keys = new Set<string>();
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k.startsWith('FILER_')) keys.add(k);
      walk(v);
    }
  };
  walk(values);

  it('lists every variable the API and the workers read in values.yaml, and names no other', () => {
    expect(missing(SERVICE, keys), 'read by the apps, not in values.yaml').toEqual([]);
    const files = fg.sync(['**/*'], { cwd: path.join(ROOT, CHART), dot: true });
    const named = namesIn(files.map((f) => read(`${CHART}/${f}`)).join('\n'));
    expect(missing(named, SERVICE), 'named in the chart, read by neither the API nor a worker').toEqual([]);
  });

  it('lists the queues KEDA watches as libs/jobs names them', () => {
    const template = read(`${CHART}/templates/scaledobject.yaml`);
    for (const q of [...WORKER_QUEUES.scanner, ...WORKER_QUEUES.batch]) expect(template).toContain(`"${q}"`);
    // Shards wait in the prioritized sorted set (they carry a priority), finalizers in the wait list.
    expect(template).toContain(`"${QUEUE_PREFIX}:%s:%s"`);
    expect(template).toContain('list "wait" "prioritized"');
  });
});

describe('docs/operations.md', () => {
  it('has a row in its configuration reference for every variable the apps read, and names no other', () => {
    const doc = read('docs/operations.md');
    const rows = new Set([...doc.matchAll(/^\|\s*`(FILER_[A-Z0-9_]+)`/gm)].map((m) => m[1]));
    expect(missing(ALL, rows), 'read by the apps, not in the configuration reference').toEqual([]);
    expect(missing(namesIn(doc), ALL), 'named in the docs, read by no app').toEqual([]);
  });

  it('says which variables only the CLI reads', () => {
    const doc = read('docs/operations.md');
    for (const v of CLI_ONLY) expect(doc).toMatch(new RegExp(`^\\|\\s*\`${v}\`.*\\|\\s*CLI\\s*\\|`, 'm'));
  });
});

describe('the image', () => {
  const dockerfile = read('Dockerfile');

  it('names only variables the apps read', () => {
    const named = namesIn([dockerfile, ...fg.sync('deploy/docker/*', { cwd: ROOT }).map(read)].join('\n'));
    expect(missing(named, ALL)).toEqual([]);
  });

  it('builds in one stage and runs as a non-root user with a HEALTHCHECK in another', () => {
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages).toHaveLength(2);
    const runtime = stages[1];
    expect(runtime).toMatch(/^USER [1-9]\d*(:\d+)?$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*deploy\/docker\/healthcheck\.mjs/m);
    expect(runtime).not.toMatch(/build-essential/);
  });

  it('starts each app by its name', () => {
    const entry = read('deploy/docker/entrypoint.sh');
    for (const app of ['api', 'scanner-worker', 'batch-worker']) {
      expect(fs.existsSync(path.join(ROOT, `apps/${app}/src/main.ts`)), app).toBe(true);
      expect(entry).toContain(`node /app/apps/${app}/dist/main.js`);
    }
    expect(entry).toContain('node /app/apps/cli/bin/filer.js');
    expect(fs.existsSync(path.join(ROOT, 'apps/cli/bin/filer.js'))).toBe(true);
  });

  it('has scripts that parse', () => {
    for (const sh of ['deploy/docker/entrypoint.sh', 'deploy/docker/prune-runtime.sh']) expect(run('sh', ['-n', sh]).code, sh).toBe(0);
    expect(run(process.execPath, ['--check', 'deploy/docker/healthcheck.mjs']).code).toBe(0);
  });

  it('keeps what the build needs in the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const needed of [
      'package.json',
      'package-lock.json',
      'libs',
      'apps',
      'scripts',
      'deploy',
      'deploy/docker',
      'libs/*/src',
      'apps/*/src',
    ])
      expect(ignored, needed).not.toContain(needed);
  });
});

describe('.github/workflows/ci.yml', () => {
  type Step = { run?: string; uses?: string; with?: Record<string, unknown> };
  const workflow = parse(read('.github/workflows/ci.yml')) as { jobs: Record<string, { steps: Step[] }> };
  const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
  const runs = steps.map((s) => s.run ?? '').join('\n');

  it('runs the npm commands of .ci/run', () => {
    const ciRun = [...read('.ci/run').matchAll(/^step "[^"]+" (?:env (?:\S+=\S+ )+)?(npm (?:ci|test|run)\b.*)$/gm)].map((m) => m[1]);
    expect(ciRun).toContain('npm test');
    expect(ciRun).toContain('npm test -- libs/storage/test/native-');
    expect(ciRun.length).toBeGreaterThanOrEqual(5);
    // .ci/run sets PATH and FILER_FS_SCAN_ADDON with env, the workflow with a prefix or the job's Node.
    for (const cmd of ciRun) expect(runs, cmd).toContain(cmd);
    expect(runs).toMatch(/^bash scripts\/test-portable\.sh$/m);
    expect(read('.ci/run')).toMatch(/^step "[^"]+" env PATH="[^"]+" bash scripts\/test-portable\.sh$/m);
    expect(read('scripts/test-portable.sh')).toMatch(/^FILER_FS_SCAN_ADDON=off exec npm test -- "\$\{args\[@\]\}" "\$@"$/m);
  });

  it('leaves the tools the tests use to npm test (scripts/install-test-tools.sh), as a new user gets them', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.test).toBe('bash scripts/test.sh');
    expect(read('scripts/test.sh')).toMatch(/^bash scripts\/install-test-tools\.sh$/m);
    expect(read('scripts/install-test-tools.sh')).toContain('apt-get install');
    const testJob = workflow.jobs.test.steps.map((s) => s.run ?? '').join('\n');
    for (const text of [read('.ci/run'), testJob]) {
      expect(text).not.toContain('apt-get');
      expect(text).not.toContain('npx vitest');
    }
  });

  it('runs every test file: npm test names no filter but the Node 22 rerun of the native addon tests, and the addon-off leg leaves only the files it lists to Node 20', () => {
    const filtered = [...`${runs}\n${read('.ci/run')}`.matchAll(/npm test -- (.+)$/gm)].map((m) => m[1].trim());
    expect(new Set(filtered)).toEqual(new Set(['libs/storage/test/native-']));
    // What the addon-off leg leaves out, the Node 20 leg (a plain `npm test`) runs.
    expect(runs).toMatch(/^npm test$/m);
    expect(read('.ci/run')).toMatch(/^step "[^"]+" npm test$/m);
    const files = fg.sync(vitestConfig.test!.include!, { cwd: ROOT, ignore: ['**/node_modules/**'] });
    expect(files.filter((f) => f.startsWith('libs/storage/test/native-')).length).toBeGreaterThan(3);
    // Each file the portable leg leaves out is a test file there is (a renamed one would run again unnoticed), and
    // it leaves out no more than a sixth of them.
    const list = /^excludes=\(\n([\s\S]*?)^\)$/m.exec(read('scripts/test-portable.sh'))![1];
    const excluded = list
      .split('\n')
      .map((l) => l.trim().replace(/^'(.*)'$/, '$1'))
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(excluded.length).toBeGreaterThan(2);
    const left = new Set<string>();
    for (const pattern of excluded) {
      const matched = fg.sync(pattern.endsWith('/**') ? `${pattern}/*.test.ts` : pattern, { cwd: ROOT });
      expect(
        matched.filter((f) => files.includes(f)),
        pattern,
      ).not.toEqual([]);
      for (const f of matched) left.add(f);
    }
    expect(left.size).toBeLessThan(files.length / 6);
  });

  it('builds the image without pushing it', () => {
    const build = steps.find((s) => s.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with?.push).toBe(false);
  });
});

describe('YAML files', () => {
  it('pass yamllint', () => {
    const yamllint = tool('yamllint', which('yamllint'));
    const files = [
      'docker-compose.yml',
      '.yamllint.yaml',
      '.github/workflows/ci.yml',
      `${CHART}/Chart.yaml`,
      `${CHART}/values.yaml`,
      `${CHART}/ci`,
    ];
    const r = run(yamllint, ['--strict', '-c', '.yamllint.yaml', ...files]);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// The chart rendered by Helm and checked against the Kubernetes schemas

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: unknown };
type Container = {
  name: string;
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  volumeMounts?: { name: string; mountPath: string }[];
};
type PodSpec = {
  containers: Container[];
  volumes?: ({ name: string } & Record<string, unknown>)[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean };
};
type Workload = Manifest & { spec: { replicas?: number; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } };

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ServiceAccount': ServiceAccount,
  'v1/Secret': Secret,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

const DEFAULT_PORTS: Record<string, number> = { api: 8080, 'scanner-worker': 9464, 'batch-worker': 9465 };
const QUEUES_OF: Record<string, readonly string[]> = { 'scanner-worker': WORKER_QUEUES.scanner, 'batch-worker': WORKER_QUEUES.batch };

function render(valuesFile: string): Manifest[] {
  const r = run(helm(), ['template', 'ci', CHART, '--namespace', 'filer', '-f', valuesFile]);
  expect(r.code, r.out).toBe(0);
  return parseAllDocuments(r.out)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('the Helm chart, rendered', () => {
  const valueFiles = fs.readdirSync(path.join(ROOT, CHART, 'ci')).map((f) => `${CHART}/ci/${f}`);

  it.each(valueFiles)('passes helm lint --strict with %s', (valuesFile) => {
    const r = run(helm(), ['lint', '--strict', CHART, '-f', valuesFile]);
    expect(r.code, r.out).toBe(0);
  });

  it('refuses to render without tokens or a shared results store, or with a bad config.FILER_RESULTS', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filer-chart-'));
    try {
      const noTokens = run(helm(), ['template', 'ci', CHART]);
      expect(noTokens.code).not.toBe(0);
      expect(noTokens.out).toContain('secrets.FILER_TOKENS is required');
      const f = path.join(dir, 'v.yaml');
      fs.writeFileSync(f, 'secrets: {FILER_TOKENS: "t:read"}\nresults: {persistence: {enabled: false}}\n');
      const noResults = run(helm(), ['template', 'ci', CHART, '-f', f]);
      expect(noResults.code).not.toBe(0);
      expect(noResults.out).toContain('must share one results store');
      fs.writeFileSync(f, 'secrets: {FILER_TOKENS: "t:read"}\nconfig: {FILER_RESULTS: "s3://bucket/no-slash"}\n');
      const badS3 = run(helm(), ['template', 'ci', CHART, '-f', f]);
      expect(badS3.code).not.toBe(0);
      expect(badS3.out).toContain('config.FILER_RESULTS=s3://bucket/no-slash: expected s3://bucket/prefix/');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(valueFiles)('renders valid Kubernetes objects with %s', (valuesFile) => {
    const docs = render(valuesFile);
    for (const doc of docs) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `a schema for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
      expect(() => new Model(doc as never).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
    }
  });

  it.each(valueFiles)('wires the apps together with %s', (valuesFile) => {
    const docs = render(valuesFile);
    const byKind = (kind: string): Manifest[] => docs.filter((d) => d.kind === kind);
    const configMap = byKind('ConfigMap')[0] as Manifest & { data: Record<string, string> };
    const secret = byKind('Secret')[0] as (Manifest & { stringData: Record<string, string> }) | undefined;
    const deployments = byKind('Deployment') as Workload[];
    const component = (d: Manifest): string => d.metadata.labels!['app.kubernetes.io/component'];
    expect(deployments.map(component).sort()).toEqual(['api', 'batch-worker', 'scanner-worker']);

    const resultsSources = new Set<string>();
    for (const d of deployments) {
      const name = component(d);
      const pod = d.spec.template.spec;
      const c = pod.containers[0];
      // What the process sees: the ConfigMap, the Secret (an existing one holds FILER_TOKENS and
      // FILER_REDIS_URL by contract), then its own env.
      const env = new Map<string, string>(Object.entries(configMap.data));
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef) expect(from.configMapRef.name).toBe(configMap.metadata.name);
        if (from.secretRef && secret === undefined)
          for (const k of ['FILER_TOKENS', 'FILER_REDIS_URL']) if (!env.has(k)) env.set(k, '<secret>');
        if (from.secretRef && secret !== undefined) {
          expect(from.secretRef.name).toBe(secret.metadata.name);
          for (const [k, v] of Object.entries(secret.stringData)) env.set(k, v);
        }
      }
      for (const e of c.env ?? []) env.set(e.name, e.value ?? '');
      for (const v of ['FILER_REDIS_URL', 'FILER_RESULTS_DIR', 'FILER_ALLOWED_ROOTS', ...(name === 'api' ? ['FILER_TOKENS'] : [])])
        expect(env.get(v), `${name}: ${v}`).toBeTruthy();
      expect(
        [...env.keys()].filter((k) => /^FILER_/.test(k) && !SERVICE.has(k)),
        name,
      ).toEqual([]);

      const port = Number(env.get(name === 'api' ? 'FILER_API_PORT' : 'FILER_WORKER_PORT') ?? DEFAULT_PORTS[name]);
      expect(c.ports, name).toEqual([expect.objectContaining({ name: 'http', containerPort: port })]);
      expect(c.livenessProbe?.httpGet, name).toEqual({ path: '/health', port: 'http' });
      expect(c.readinessProbe?.httpGet, name).toEqual({ path: '/health/ready', port: 'http' });
      expect(pod.securityContext?.runAsNonRoot, name).toBe(true);

      const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
      const volumes = new Map((pod.volumes ?? []).map(({ name: n, ...source }) => [n, JSON.stringify(source)]));
      const resultsVolume = volumes.get(mounts.get(env.get('FILER_RESULTS_DIR')!)!)!;
      // Results on S3 (FILER_RESULTS): the bucket is what is shared; FILER_RESULTS_DIR is the pod's own scratch.
      const s3Results = env.get('FILER_RESULTS');
      if (s3Results !== undefined) expect(resultsVolume, `${name}: scratch for results on S3`).toContain('emptyDir');
      resultsSources.add(s3Results ?? resultsVolume);
      for (const root of env.get('FILER_ALLOWED_ROOTS')!.split(':')) expect(mounts.has(root), `${name} mounts ${root}`).toBe(true);
      if (name !== 'api') {
        expect(Number(env.get('FILER_SHUTDOWN_TIMEOUT_MS') ?? 30_000), name).toBeLessThan((pod.terminationGracePeriodSeconds ?? 30) * 1000);
      }
    }
    expect(resultsSources.size, 'one results volume (or S3 prefix) for the API and every worker').toBe(1);
    const shared = [...resultsSources][0]!;
    if (shared.startsWith('s3://')) {
      expect(shared).toMatch(/^s3:\/\/[a-z0-9.-]+\/(.*\/)?$/);
      expect(
        byKind('PersistentVolumeClaim').map((c) => c.metadata.name),
        'no results claim with results on S3',
      ).not.toContainEqual(expect.stringMatching(/-results$/));
    } else expect(shared).not.toContain('emptyDir');

    const deploymentNamed = (n: string): Workload | undefined => deployments.find((d) => d.metadata.name === n);
    const scaled = new Set<string>();
    for (const hpa of byKind('HorizontalPodAutoscaler') as (Manifest & { spec: { scaleTargetRef: { name: string } } })[]) {
      const target = deploymentNamed(hpa.spec.scaleTargetRef.name);
      expect(target, hpa.metadata.name).toBeDefined();
      scaled.add(target!.metadata.name);
    }
    for (const so of byKind('ScaledObject') as (Manifest & {
      spec: { scaleTargetRef: { name: string }; triggers: { type: string; metadata: { listName: string } }[] };
    })[]) {
      const target = deploymentNamed(so.spec.scaleTargetRef.name);
      expect(target, so.metadata.name).toBeDefined();
      expect(scaled.has(target!.metadata.name), `${target!.metadata.name} has one autoscaler`).toBe(false);
      scaled.add(target!.metadata.name);
      const lists = so.spec.triggers.map((t) => t.metadata.listName).sort();
      // One trigger per key a backlog sits in: shards wait in the `prioritized` sorted set (they carry a priority), finalizers in
      // the `wait` list; KEDA's redis scaler counts either (its TYPE-dispatched length: LLEN, ZCARD).
      expect(lists).toEqual(
        QUEUES_OF[component(target!)].flatMap((q) => [`${QUEUE_PREFIX}:${q}:prioritized`, `${QUEUE_PREFIX}:${q}:wait`]).sort(),
      );
    }
    for (const d of deployments)
      expect(d.spec.replicas === undefined, `${d.metadata.name}: replicas left to its autoscaler`).toBe(scaled.has(d.metadata.name));

    const pods = [...deployments, ...(byKind('StatefulSet') as Workload[])];
    const services = byKind('Service') as (Manifest & {
      spec: { selector: Record<string, string>; ports: { name: string; targetPort: string }[] };
    })[];
    for (const svc of services) {
      const backing = pods.filter((p) => selects(svc.spec.selector, p.spec.template.metadata.labels));
      expect(backing, `pods behind Service ${svc.metadata.name}`).toHaveLength(1);
      const ports = backing[0].spec.template.spec.containers[0].ports!.map((p) => p.name);
      for (const p of svc.spec.ports) expect(ports, `${svc.metadata.name} → ${p.targetPort}`).toContain(p.targetPort);
    }
    for (const sm of byKind('ServiceMonitor') as (Manifest & { spec: { selector: { matchLabels: Record<string, string> } } })[]) {
      expect(
        services.filter((s) => selects(sm.spec.selector.matchLabels, s.metadata.labels ?? {})).length,
        sm.metadata.name,
      ).toBeGreaterThan(0);
    }
  });
});
