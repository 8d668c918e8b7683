import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { workerKillDeadlineMs } from '../cluster/run-primary';
import { withEnvOverrides } from './env-overrides';
import { validateConfig } from './load-config';
import { withServerEnv } from './server-env';
import { shutdownTimes, workerShutdownMs } from './shutdown-times';

const ROOT = new URL('../../../../', import.meta.url);
const MANIFEST = new URL('deploy/kubernetes/switchyard.yaml', ROOT);
const DOCKERFILE = new URL('Dockerfile', ROOT);
const GATEWAY_PACKAGE = new URL('apps/gateway/package.json', ROOT);

interface Manifest {
  kind: string;
  metadata?: { name?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    strategy?: { rollingUpdate?: { maxSurge?: number } };
    scaleTargetRef?: { kind?: string; name?: string };
    maxReplicas?: number;
    template?: {
      spec?: {
        terminationGracePeriodSeconds?: number;
        containers?: {
          image?: string;
          imagePullPolicy?: string;
          env?: { name: string; value?: string }[];
          securityContext?: { readOnlyRootFilesystem?: boolean };
          volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
        }[];
      };
    };
  };
}

interface GatewayConfig {
  server?: { port?: number; host?: string; shutdownDelayMs?: number; shutdownTimeoutMs?: number };
  admin?: { keyStore?: { url?: string; postgres?: { poolSize?: number } } };
  requestLog?: { store?: string; flushTimeoutMs?: number; postgres?: { poolSize?: number } };
}

function manifests(): Manifest[] {
  return parseAllDocuments(readFileSync(MANIFEST, 'utf8')).map((doc) => doc.toJS() as Manifest);
}

function byKind(kind: string): Manifest | undefined {
  return manifests().find((m) => m.kind === kind);
}

function gatewayYaml(): string {
  return byKind('ConfigMap')?.data?.['gateway.yaml'] ?? '';
}

function podEnv(): Record<string, string> {
  const env = byKind('Deployment')?.spec?.template?.spec?.containers?.[0]?.env ?? [];
  return Object.fromEntries(env.map((variable) => [variable.name, variable.value ?? '']));
}

function gatewayConfig(): GatewayConfig {
  return parse(gatewayYaml()) as GatewayConfig;
}

describe('deploy/kubernetes/switchyard.yaml', () => {
  it('gives a pod more grace than its shutdown can take: delay, drain, closing, the key spend and request log flushes', async () => {
    const graceSeconds = byKind('Deployment')?.spec?.template?.spec?.terminationGracePeriodSeconds;
    // the config as start runs it: the Secret and the Deployment's env (the master key, Redis)
    const env = { ...byKind('Secret')?.stringData, ...podEnv() };
    const config = withServerEnv(
      withEnvOverrides(await validateConfig(parse(gatewayYaml()), env, 'the ConfigMap'), env),
      env,
    );
    const times = shutdownTimes(config);
    // PostgreSQL and Redis unreachable: 5 s + 20 s + 1 s, key spend 1.5 s + 2 x (0.5 s + 5 s + 31 s)
    // bounded by limits.spendFlushTimeoutMs (10 s), 10 s
    expect(workerShutdownMs(times)).toBe(47_500);
    expect((graceSeconds ?? 30) * 1_000).toBeGreaterThan(workerShutdownMs(times));
    // with several workers in a pod, the primary's kill (a worker stuck past all of it) comes first
    expect((graceSeconds ?? 30) * 1_000).toBeGreaterThan(workerKillDeadlineMs(times));
  });

  it('is a config the gateway accepts with the Secret as its environment', async () => {
    const env = { ...byKind('Secret')?.stringData };
    const warnings: string[] = [];
    await expect(validateConfig(parse(gatewayYaml()), env, 'the ConfigMap', warnings)).resolves.toBeDefined();
    expect(warnings).toEqual([]);
  });

  it('leaves the replica count to the HorizontalPodAutoscaler that targets the Deployment', () => {
    const hpa = byKind('HorizontalPodAutoscaler');
    expect(hpa?.spec?.scaleTargetRef).toMatchObject({
      kind: 'Deployment',
      name: byKind('Deployment')?.metadata?.name,
    });
    // a replicas field would reset the HPA's count on every kubectl apply
    expect(byKind('Deployment')?.spec).not.toHaveProperty('replicas');
  });

  it('sets no server.port or server.host the image environment (HOST, PORT) would override', () => {
    expect(readFileSync(DOCKERFILE, 'utf8')).toMatch(/^ENV .*\bHOST=0\.0\.0\.0 PORT=8080\b/m);
    expect(gatewayConfig().server).not.toHaveProperty('port');
    expect(gatewayConfig().server).not.toHaveProperty('host');
  });

  it('keeps its PostgreSQL connections at the largest rollout under the default max_connections (100, 3 reserved)', () => {
    const config = gatewayConfig();
    const deployment = byKind('Deployment');
    const workers = Number(
      deployment?.spec?.template?.spec?.containers?.[0]?.env?.find(
        (variable) => variable.name === 'SWITCHYARD_WORKERS',
      )?.value,
    );
    const pods =
      (byKind('HorizontalPodAutoscaler')?.spec?.maxReplicas ?? 0) +
      (deployment?.spec?.strategy?.rollingUpdate?.maxSurge ?? 0);
    // the key store shares the request log's pool unless admin.keyStore opens one of its own
    const pools = [
      config.requestLog?.store === 'postgres' ? (config.requestLog.postgres?.poolSize ?? 5) : 0,
      config.admin?.keyStore?.url?.includes('DATABASE_URL') === true
        ? (config.admin.keyStore.postgres?.poolSize ?? 5)
        : 0,
    ];
    expect(workers).toBe(1);
    expect(pods * workers * pools.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(97);
  });

  it('requires a token on /metrics: SWITCHYARD_METRICS_TOKEN in the Secret the pods take their environment from', () => {
    expect(byKind('Secret')?.stringData).toHaveProperty('SWITCHYARD_METRICS_TOKEN');
    expect(gatewayConfig()).not.toHaveProperty('metrics.token');
  });

  it("lets start write the image's SWITCHYARD_ADDRESS_FILE on its read-only root filesystem (it warned at every start)", () => {
    const path = /^ENV .*\bSWITCHYARD_ADDRESS_FILE=(\S+)/m.exec(readFileSync(DOCKERFILE, 'utf8'))?.[1] ?? '';
    const container = byKind('Deployment')?.spec?.template?.spec?.containers?.[0];
    expect(container?.securityContext?.readOnlyRootFilesystem).toBe(true);
    const directory = path.slice(0, path.lastIndexOf('/'));
    expect(container?.volumeMounts).toContainEqual({
      name: expect.any(String) as string,
      mountPath: directory,
    });
  });

  it('runs a versioned image a cluster can use without pulling it (not :latest, which is always pulled)', () => {
    const container = byKind('Deployment')?.spec?.template?.spec?.containers?.[0];
    expect(container?.image).toMatch(/:\d+\.\d+\.\d+$/);
    expect(container?.imagePullPolicy).toBe('IfNotPresent');
  });
});

describe('the image (Dockerfile and apps/gateway/package.json)', () => {
  it('keeps the drivers a config can name after npm prune --omit=dev: the gateway depends on them', () => {
    const pkg = JSON.parse(readFileSync(GATEWAY_PACKAGE, 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    // the libraries declare them only as optional peers (dev dependencies in the lock)
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(
      expect.arrayContaining(['better-sqlite3', 'pg', 'ioredis', '@aws-sdk/credential-provider-node']),
    );
    expect(readFileSync(DOCKERFILE, 'utf8')).toMatch(/^RUN npm prune --omit=dev$/m);
  });

  it('checks health with the entry point’s own `healthcheck`, which finds the port as start does (the inline check read only PORT, else 8080)', () => {
    const dockerfile = readFileSync(DOCKERFILE, 'utf8');
    const exec = (instruction: string): unknown =>
      JSON.parse(new RegExp(`^${instruction}\\b.*?(\\[.*\\])$`, 'm').exec(dockerfile)?.[1] ?? 'null');
    const check = /^HEALTHCHECK (.*)\\\n\s*CMD (\[.*\])$/m.exec(dockerfile);
    const entrypoint = exec('ENTRYPOINT') as string[];
    expect(JSON.parse(check?.[2] ?? 'null')).toEqual([...entrypoint, 'healthcheck']);
    // Docker's own deadline is longer than the command's (2 s), which then says why it failed
    expect(Number(/--timeout=(\d+)s/.exec(check?.[1] ?? '')?.[1])).toBeGreaterThan(2);
  });

  it('has start record where it listens for the HEALTHCHECK, which could not see the flags of start (--port, --config)', () => {
    const dockerfile = readFileSync(DOCKERFILE, 'utf8');
    const path = /^ENV .*\bSWITCHYARD_ADDRESS_FILE=(\/[\w./-]+)(\s|$)/m.exec(dockerfile)?.[1] ?? '';
    const directory = path.slice(0, path.lastIndexOf('/'));
    // not in the shared /tmp, where another user could plant a file naming their own URL, which
    // the admin commands would send the master key to: a directory only the node user may enter
    expect(directory).not.toBe('');
    expect(directory).not.toMatch(/^\/tmp(\/|$)/);
    const escaped = directory.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    expect(dockerfile).toMatch(new RegExp(`^RUN mkdir -p .*${escaped}\\b`, 'm'));
    expect(dockerfile).toMatch(new RegExp(`chown node:node .*${escaped}\\b`));
    expect(dockerfile).toMatch(new RegExp(`chmod 700 ${escaped}(\\s|$)`, 'm'));
  });

  it('gives the runtime user no ownership of the code, only of /data', () => {
    const dockerfile = readFileSync(DOCKERFILE, 'utf8');
    expect(dockerfile).not.toMatch(/--chown/);
    expect(dockerfile).toMatch(/chown node:node \/data/);
    // sources and tests stay in the build stage
    expect(dockerfile).not.toMatch(/COPY --from=build \S*\/libs /);
  });
});
