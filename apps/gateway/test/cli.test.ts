import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMockUpstream, TEST_REDIS_URL, type MockUpstream } from '@switchyard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// These tests run the built binary (the nx test target depends on build), as a user would.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];
let upstream: MockUpstream;
let dir: string;

function run(args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [CLI, ...args], {
    // in the test's directory: the embedded defaults write ./switchyard.db (the request log)
    cwd: dir,
    // one process: workers are covered by cluster.test.ts
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'silent', SWITCHYARD_WORKERS: '1', ...env },
  });
  children.push(child);
  return child;
}

async function output(
  child: ChildProcessWithoutNullStreams,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

function listening(child: ChildProcessWithoutNullStreams): Promise<string> {
  // a listener, not `for await`: ending that loop would destroy the child's stdout pipe
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (data: Buffer) => {
      text += data.toString();
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) =>
      reject(new Error(`the gateway exited (${String(code)}) before listening: ${text}`)),
    );
  });
}

/** The child's stdout once it matches `pattern`. */
function printedUntil(child: ChildProcessWithoutNullStreams, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (data: Buffer) => {
      text += data.toString();
      if (pattern.test(text)) resolve(text);
    });
    child.once('exit', (code) =>
      reject(new Error(`the gateway exited (${String(code)}) before printing ${String(pattern)}: ${text}`)),
    );
  });
}

beforeAll(async () => {
  upstream = await createMockUpstream();
  dir = await mkdtemp(join(tmpdir(), 'switchyard-cli-'));
});
afterEach(async () => {
  // waited for, so none still writes into the directory when it is removed
  await Promise.all(
    children.splice(0).map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }),
  );
});
afterAll(async () => {
  await upstream.close();
  await rm(dir, { recursive: true, force: true });
});

// several tests here run a dozen CLI processes one after another (about 0.4 s of CPU each): on CI's
// two loaded cores that passes the 20 s default, as in the other files that spawn the binary
describe('switchyard CLI', { timeout: 60_000 }, () => {
  it('starts on embedded defaults with the mock provider and prints a curl example', async () => {
    const child = run(['--port', '0']);
    const tryIt = printedUntil(child, /Try it:[\s\S]*"Hello!"/);
    const url = await listening(child);
    const printed = await tryIt;
    expect(printed).toContain(`curl ${url}/v1/chat/completions`);
    expect(printed).not.toContain('authorization');
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { object: string }).object).toBe('chat.completion');
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toEqual(['mock']);
  });

  it('prints a curl that sends $SWITCHYARD_API_KEY when the gateway has a master key, never the key itself', async () => {
    const master = 'sy-master-cli-try-it-0123456789';
    const child = run(['start', '--port', '0'], { SWITCHYARD_MASTER_KEY: master });
    const printed = await printedUntil(child, /Try it:[\s\S]*"Hello!"[\s\S]*keys create/);
    expect(printed).toContain('-H "authorization: Bearer $SWITCHYARD_API_KEY"');
    expect(printed).not.toContain(master);
    const url = /listening on (http:\/\/\S+)/.exec(printed)?.[1];
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${master}` },
      body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
  });

  it('adds an openai provider when OPENAI_API_KEY is set', async () => {
    const child = run(['start', '--port', '0'], {
      OPENAI_API_KEY: 'sk-env-key-0000000000',
      OPENAI_BASE_URL: `${upstream.url}/v1`,
    });
    const url = await listening(child);
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    expect(upstream.requests.at(-1)?.headers['authorization']).toBe('Bearer sk-env-key-0000000000');
  });

  it('names OPENAI_BASE_URL and OPENAI_API_KEY when the defaults cannot use them (a worker reported "/providers/1/baseUrl"), and warns of a base URL without a key', async () => {
    const badUrl = await output(
      run(['start', '--port', '0'], { OPENAI_API_KEY: 'sk-env-key', OPENAI_BASE_URL: 'localhost:8000/v1' }),
    );
    expect(badUrl.code).toBe(1);
    expect(badUrl.stderr).toContain('Invalid configuration in the environment:');
    expect(badUrl.stderr).toContain('OPENAI_BASE_URL: does not start with http:// or https://');
    expect(badUrl.stderr).not.toContain('/providers/');
    const crlfKey = await output(run(['start', '--port', '0'], { OPENAI_API_KEY: 'sk-env-key\r' }));
    expect(crlfKey.code).toBe(1);
    expect(crlfKey.stderr).toContain('OPENAI_API_KEY: holds a line break');
    expect(crlfKey.stderr).not.toContain('sk-env-key');
    const noKey = run(['start', '--port', '0'], { OPENAI_BASE_URL: `${upstream.url}/v1` });
    let stderr = '';
    noKey.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    await listening(noKey);
    noKey.kill('SIGTERM');
    await once(noKey, 'close');
    expect(stderr).toContain(
      'OPENAI_BASE_URL is set but OPENAI_API_KEY is not: no openai provider is configured',
    );
  });

  it('reads a YAML config with ${ENV} interpolation', async () => {
    const file = join(dir, 'gateway.yaml');
    await writeFile(
      file,
      [
        'server: { port: 0, host: 127.0.0.1 }',
        'providers:',
        '  - { name: up, type: openai, apiKey: "${UP_KEY}", baseUrl: "${UP_URL}" }',
        'models:',
        '  - name: fast',
        '    targets: [ { provider: up, model: gpt-4o-mini } ]',
      ].join('\n'),
    );
    const child = run(['--config', file], { UP_KEY: 'sk-yaml-key-1234567890', UP_URL: `${upstream.url}/v1` });
    const url = await listening(child);
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    expect(upstream.requests.at(-1)?.headers['authorization']).toBe('Bearer sk-yaml-key-1234567890');
  });

  it('reports every config problem at once and exits non-zero', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({
        server: { port: 'eighty' },
        providers: [{ name: 'a', type: 'openai', apiKey: '${MISSING_KEY}' }],
        models: [{ name: 'm', targets: [{ provider: 'ghost', model: 'x' }] }],
      }),
    );
    const result = await output(run(['config', 'validate', file]));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('environment variable MISSING_KEY is not set');
    expect(result.stderr).toContain('/server/port');
    const semantic = join(dir, 'semantic.yaml');
    await writeFile(
      semantic,
      'providers: [ { name: a, type: nope } ]\nmodels: [ { name: m, targets: [ { provider: ghost, model: x } ] } ]\n',
    );
    const second = await output(run(['--config', semantic]));
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('unknown provider type "nope"');
    expect(second.stderr).toContain('no provider is named "ghost"');
  });

  it('validates a good config', async () => {
    const file = join(dir, 'good.yaml');
    await writeFile(file, 'providers: [ { name: mock, type: mock } ]\n');
    const result = await output(run(['config', 'validate', file]));
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain('valid');
  });

  it('validates a config with the environment and the workers start would run it with', async () => {
    const file = join(dir, 'admin.yaml');
    await writeFile(
      file,
      "admin: { masterKey: validate-master-key-0123, keyStore: { url: 'sqlite::memory:' } }\nproviders: [ { name: mock, type: mock } ]\n",
    );
    const oneWorker = await output(run(['config', 'validate', file]));
    expect(oneWorker).toMatchObject({ code: 0 });
    expect(oneWorker.stdout).toContain('valid (1 worker)');
    // without Redis, start refuses several workers with an admin API: so does validate
    const twoWorkers = await output(run(['config', 'validate', file], { SWITCHYARD_WORKERS: '2' }));
    expect(twoWorkers.code).toBe(1);
    expect(twoWorkers.stderr).toContain(
      "with 2 workers: virtual keys' revocations, budgets and limits would be kept per worker",
    );
    const flag = await output(run(['config', 'validate', file, '--workers', '3', '--json']));
    expect(flag.code).toBe(1);
    expect(JSON.parse(flag.stdout)).toMatchObject({ valid: false, workers: 3 });
    // REDIS_URL from the environment is what makes the workers share state
    const shared = await output(
      run(['config', 'validate', file, '--json'], {
        SWITCHYARD_WORKERS: '2',
        REDIS_URL: 'redis://127.0.0.1:6379',
      }),
    );
    expect(shared.code).toBe(0);
    expect(JSON.parse(shared.stdout)).toMatchObject({ valid: true, workers: 2, problems: [] });
    const badEnv = await output(
      run(['config', 'validate', file], {
        REDIS_URL: 'redis://:pw-0123456789@127.0.0.1:99999',
        SWITCHYARD_METRICS_TOKEN: 'short',
        PORT: 'http',
      }),
    );
    expect(badEnv.code).toBe(1);
    expect(badEnv.stderr).toContain('PORT: "http" is not an integer from 0 to 65535.');
    expect(badEnv.stderr).toContain('SWITCHYARD_METRICS_TOKEN');
    const badRedis = await output(
      run(['config', 'validate', file], { REDIS_URL: 'redis://:pw-0123456789@127.0.0.1:99999' }),
    );
    expect(badRedis.code).toBe(1);
    expect(badRedis.stderr).toContain('REDIS_URL is not a valid URL: the port 99999 is not in 0-65535');
    expect(badRedis.stderr).not.toContain('pw-0123456789');
    const badWorkers = await output(run(['config', 'validate', file], { SWITCHYARD_WORKERS: 'many' }));
    expect(badWorkers.code).toBe(1);
    expect(badWorkers.stderr).toContain('SWITCHYARD_WORKERS: "many" is not a worker count');
  });

  it('validates the Redis addresses start takes, and names the field of one start would refuse', async () => {
    const good = join(dir, 'redis-host-port.yaml');
    await writeFile(good, 'redis: { url: "10.0.0.5:6379" }\nproviders: [ { name: mock, type: mock } ]\n');
    const accepted = await output(run(['config', 'validate', good]));
    expect(accepted).toMatchObject({ code: 0 });
    const bad = join(dir, 'limiter-redis.yaml');
    await writeFile(
      bad,
      'limiter: { redis: { url: "redis://:pw-0123456789@127.0.0.1:99999" } }\nproviders: [ { name: mock, type: mock } ]\n',
    );
    const refused = await output(run(['config', 'validate', bad]));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      '/limiter/redis/url: is not a valid URL: the port 99999 is not in 0-65535',
    );
    expect(refused.stderr).not.toContain('pw-0123456789');
  });

  it('refuses, as start does, a Redis address without //', async () => {
    const file = join(dir, 'redis-no-slashes.yaml');
    await writeFile(
      file,
      'limiter: { redis: { url: "redis:/127.0.0.1:6379" } }\nproviders: [ { name: mock, type: mock } ]\n',
    );
    const [validated, started] = await Promise.all([
      output(run(['config', 'validate', file])),
      output(run(['--config', file, '--port', '0'])),
    ]);
    for (const result of [validated, started]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('/limiter/redis/url: has no "//" after "redis:"');
    }
  });

  it('warns, in validate and start alike, of settings the configured stores would ignore, and starts (they were refused, breaking files shared by environments)', async () => {
    const file = join(dir, 'ignored-settings.yaml');
    await writeFile(
      file,
      [
        'admin: { masterKey: ignored-settings-master-0123, keyStore: { url: "sqlite::memory:", postgres: { poolSize: 2 } } }',
        'requestLog: { store: none, postgres: { poolSize: 2 } }',
        'cache: { redisCommandTimeoutMs: 40 }',
        'providers: [ { name: mock, type: mock } ]',
        '',
      ].join('\n'),
    );
    const lines = [
      'warning: /admin/keyStore/postgres: pool settings are for a postgres:// key store, not sqlite:',
      'warning: /requestLog/postgres: pool settings are for a postgres request log, not store none',
      "warning: /cache/redisCommandTimeoutMs: is for the cache's Redis tier, and no Redis is configured (redis.url, redis.cluster, REDIS_URL or REDIS_CLUSTER_NODES)",
    ];
    const validated = await output(run(['config', 'validate', file]));
    expect(validated.code).toBe(0);
    expect(validated.stdout).toContain('valid (1 worker)');
    expect(validated.stderr.trimEnd().split('\n')).toEqual(lines);
    const json = await output(run(['config', 'validate', file, '--json']));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      valid: true,
      problems: [],
      warnings: lines.map((line) => line.slice('warning: '.length)),
    });
    const started = run(['--config', file, '--port', '0']);
    let stderr = '';
    started.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const url = await listening(started);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    started.kill('SIGTERM');
    await once(started, 'exit');
    expect(stderr.trimEnd().split('\n')).toEqual(lines);
    // REDIS_URL gives the cache its Redis tier at start
    const withRedis = await output(
      run(['config', 'validate', file], { REDIS_URL: 'redis://127.0.0.1:6379' }),
    );
    expect(withRedis.code).toBe(0);
    expect(withRedis.stderr).not.toContain('/cache/redisCommandTimeoutMs');
    // the stores picked by the environment: their fields are for the environments that pick the other store
    const switched = join(dir, 'switched-settings.yaml');
    await writeFile(
      switched,
      [
        'admin: { masterKey: ignored-settings-master-0123, keyStore: { url: "${KEY_STORE:-sqlite::memory:}", postgres: { poolSize: 2 } } }',
        'requestLog: { store: "${LOG_STORE:-none}", postgres: { poolSize: 2 } }',
        'providers: [ { name: mock, type: mock } ]',
        '',
      ].join('\n'),
    );
    const quiet = await output(run(['config', 'validate', switched]));
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it("prints the file's warnings before a later check or the file's own problems stop start, as validate does (start printed them only once it was about to serve)", async () => {
    const warning =
      'warning: /requestLog/postgres: pool settings are for a postgres request log, not store none';
    const exposed = join(dir, 'warned-then-exposed.yaml');
    await writeFile(
      exposed,
      'server: { host: 0.0.0.0 }\nrequestLog: { store: none, postgres: { poolSize: 2 } }\nproviders: [ { name: mock, type: mock } ]\n',
    );
    const broken = join(dir, 'warned-and-broken.yaml');
    await writeFile(
      broken,
      'server: { port: eighty }\nrequestLog: { store: none, postgres: { poolSize: 2 } }\nproviders: [ { name: mock, type: mock } ]\n',
    );
    const results = await Promise.all([
      output(run(['config', 'validate', exposed])),
      output(run(['--config', exposed, '--port', '0'])),
      output(run(['config', 'validate', broken])),
      output(run(['--config', broken])),
    ]);
    for (const [index, result] of results.entries()) {
      expect(result.code).toBe(1);
      // first, and once
      expect(result.stderr.split('\n')[0]).toBe(warning);
      expect(result.stderr.split(warning)).toHaveLength(2);
      expect(result.stderr).toContain(index < 2 ? 'the gateway has no client keys' : '/server/port: ');
    }
  });

  it('takes a redis section whose address REDIS_URL gives in validate and start alike, and refuses it in both without one', async () => {
    const file = join(dir, 'redis-from-env.yaml');
    await writeFile(
      file,
      `redis: { keyPrefix: "cli-env-${process.pid}:", commandTimeoutMs: 400 }\nproviders: [ { name: mock, type: mock } ]\n`,
    );
    const env = { REDIS_URL: TEST_REDIS_URL };
    const validated = await output(run(['config', 'validate', file], env));
    expect(validated.stderr).toBe('');
    expect(validated.code).toBe(0);
    const started = run(['--config', file, '--port', '0'], env);
    await listening(started);
    started.kill('SIGTERM');
    // neither the file nor the environment names a Redis
    const [refused, notStarted] = await Promise.all([
      output(run(['config', 'validate', file])),
      output(run(['--config', file, '--port', '0'])),
    ]);
    for (const result of [refused, notStarted]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('/redis: needs a url or cluster');
    }
  });

  it('refuses an open config on a non-loopback HOST as start does, unless SWITCHYARD_ALLOW_OPEN is set', async () => {
    const file = join(dir, 'open.yaml');
    await writeFile(file, 'server: { host: 0.0.0.0 }\nproviders: [ { name: mock, type: mock } ]\n');
    const exposed = await output(run(['config', 'validate', file]));
    expect(exposed.code).toBe(1);
    expect(exposed.stderr).toMatch(
      /the listen address 0\.0\.0\.0: the gateway has no client keys, key store or master key.*SWITCHYARD_ALLOW_OPEN=1/s,
    );
    expect((await output(run(['config', 'validate', file], { SWITCHYARD_ALLOW_OPEN: '1' }))).code).toBe(0);
    expect((await output(run(['config', 'validate', file], { HOST: '127.0.0.1' }))).code).toBe(0);
    const badFlag = await output(
      run(['config', 'validate', file], {
        SWITCHYARD_ALLOW_OPEN: 'maybe',
        SWITCHYARD_SHUTDOWN_DELAY_MS: '5s',
      }),
    );
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toContain('SWITCHYARD_SHUTDOWN_DELAY_MS: "5s" is not a duration in milliseconds');
  });

  it('refuses in validate what start refuses from the environment and the flags, every problem at once and named by where it came from', async () => {
    const file = join(dir, 'minimal.yaml');
    await writeFile(file, 'providers: [ { name: mock, type: mock } ]\n');
    const env = {
      SWITCHYARD_MASTER_KEY: 'short',
      SWITCHYARD_KEY_SECRET: 'x',
      LOG_LEVEL: 'bogus',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'notaurl',
    };
    const [validated, started] = await Promise.all([
      output(run(['config', 'validate', file, '--json'], env)),
      output(run(['--config', file, '--port', '0'], env)),
    ]);
    expect(started.code).toBe(1);
    expect(validated.code).toBe(1);
    expect(JSON.parse(validated.stdout)).toEqual({
      file,
      valid: false,
      problems: [
        'the environment: SWITCHYARD_MASTER_KEY (admin.masterKey): Expected string length greater or equal to 16',
        'the environment: SWITCHYARD_KEY_SECRET (admin.keySecret): Expected string length greater or equal to 16',
        'the environment: OTEL_EXPORTER_OTLP_ENDPOINT is not an http:// or https:// URL (an OTLP/HTTP collector, e.g. http://collector:4318)',
        'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent; got "bogus"',
      ],
      warnings: [],
    });
    // start stops at the first of them, with the same words
    expect(started.stderr).toContain(
      'SWITCHYARD_MASTER_KEY (admin.masterKey): Expected string length greater or equal to 16',
    );
    for (const [name, value, problem] of [
      ['LOG_LEVEL', 'bogus', 'must be one of fatal'],
      [
        'OTEL_EXPORTER_OTLP_ENDPOINT',
        'notaurl',
        'OTEL_EXPORTER_OTLP_ENDPOINT is not an http:// or https:// URL',
      ],
    ] as const) {
      const one = await output(run(['--config', file, '--port', '0'], { [name]: value }));
      expect(one.code).toBe(1);
      expect(one.stderr).toContain(problem);
    }
    // --host as start takes it: an open gateway on a network address is refused
    const exposed = await output(run(['config', 'validate', file, '--host', '0.0.0.0']));
    expect(exposed.code).toBe(1);
    expect(exposed.stderr).toContain('the listen address 0.0.0.0: the gateway has no client keys');
    expect(
      (await output(run(['config', 'validate', file, '--host', '127.0.0.1'], { HOST: '0.0.0.0' }))).code,
    ).toBe(0);
    // the file start would read: SWITCHYARD_CONFIG when none is named
    const fromEnv = await output(run(['config', 'validate'], { SWITCHYARD_CONFIG: file }));
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain(`${file}: valid (1 worker)`);
    expect((await output(run(['config', 'validate']))).code).toBe(2);
    // a malformed flag is wrong usage, as in start
    const badPort = await output(run(['config', 'validate', file, '--port', '99999'], { PORT: '8080' }));
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port: "99999" is not an integer from 0 to 65535.');
    // a file with problems does not hide those of the environment; the header says where each came from
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'server: { port: eighty }\nproviders: [ { name: mock, type: mock } ]\n');
    const both = await output(
      run(['config', 'validate', broken], {
        SWITCHYARD_MASTER_KEY: 'short',
        SWITCHYARD_ALLOW_OPEN: 'maybe',
        LOG_LEVEL: 'loud',
      }),
    );
    expect(both.code).toBe(1);
    expect(both.stderr).toContain(
      `Invalid configuration in ${broken}, the environment and LOG_LEVEL:\n- /server/port: Expected integer\n`,
    );
    expect(both.stderr).toContain(
      '- the environment: SWITCHYARD_MASTER_KEY (admin.masterKey): Expected string length greater or equal to 16\n',
    );
    expect(both.stderr).toContain(
      '- the environment: SWITCHYARD_ALLOW_OPEN: "maybe" is not a boolean (1, true, yes or 0, false, no)\n',
    );
    expect(both.stderr).toContain('- LOG_LEVEL: must be one of');
  });

  it('refuses a bad LOG_LEVEL or OTLP endpoint before forking workers, as validate does', async () => {
    const file = join(dir, 'minimal.yaml');
    await writeFile(file, 'providers: [ { name: mock, type: mock } ]\n');
    const [level, otlp] = await Promise.all([
      output(run(['--config', file, '--port', '0', '--workers', '2'], { LOG_LEVEL: 'bogus' })),
      output(
        run(['--config', file, '--port', '0', '--workers', '2'], {
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector:4317',
        }),
      ),
    ]);
    expect(level.code).toBe(1);
    expect(level.stderr).toContain('Invalid configuration in LOG_LEVEL');
    expect(otlp.code).toBe(1);
    expect(otlp.stderr).toContain('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not an http:// or https:// URL');
  });

  it('exits 1 when every worker fails to listen, instead of the primary waiting for workers that never exit', async () => {
    const file = join(dir, 'minimal.yaml');
    await writeFile(file, 'providers: [ { name: mock, type: mock } ]\n');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      const result = await output(run(['--config', file, '--port', String(port), '--workers', '2']));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('EADDRINUSE');
      expect(result.stderr).toContain('before listening; stopping');
    } finally {
      taken.close();
    }
  });

  // single process: the app had opened its Redis connection (and the request log) when listen
  // failed; left open, they kept the process running after it reported the error
  it(
    'exits 1 promptly when the port is in use and the app has opened connections',
    { timeout: 15_000 },
    async () => {
      const file = join(dir, 'redis-port-taken.yaml');
      await writeFile(
        file,
        `redis: { url: "${TEST_REDIS_URL}", keyPrefix: "cli-taken-${process.pid}:" }\nproviders: [ { name: mock, type: mock } ]\n`,
      );
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = taken.address() as AddressInfo;
        const child = run(['--config', file, '--port', String(port), '--host', '127.0.0.1']);
        const result = await output(child);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('EADDRINUSE');
      } finally {
        taken.close();
      }
    },
  );

  it('names REDIS_URL when start is given one with a bad port', async () => {
    const file = join(dir, 'plain.yaml');
    await writeFile(file, 'providers: [ { name: mock, type: mock } ]\n');
    const result = await output(
      run(['--config', file, '--port', '0'], { REDIS_URL: 'redis://127.0.0.1:99999' }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('REDIS_URL is not a valid URL: the port 99999 is not in 0-65535');
  });

  it('takes blank variables as unset in validate and start alike (PORT=" ", LOG_LEVEL=" " and SWITCHYARD_WORKERS=" " were refused, HOST=" " was a listen address, REDIS_URL=" " a Redis)', async () => {
    const file = join(dir, 'blank-env.yaml');
    await writeFile(
      file,
      'server: { port: 0, host: 127.0.0.1, workers: 1 }\nlogging: { level: silent }\nrequestLog: { store: none }\nproviders: [ { name: mock, type: mock } ]\n',
    );
    // the secrets are the exception, refused when blank (below)
    const names = [
      'PORT',
      'HOST',
      'LOG_LEVEL',
      'SWITCHYARD_WORKERS',
      'REDIS_URL',
      'REDIS_CLUSTER_NODES',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_SDK_DISABLED',
    ];
    const more = [
      'SWITCHYARD_SHUTDOWN_DELAY_MS',
      'SWITCHYARD_ALLOW_OPEN',
      'SWITCHYARD_ALLOWED_HOSTS',
      'DATABASE_URL',
    ];
    const blank = Object.fromEntries([...names, ...more].map((name) => [name, ' ']));
    const validated = await output(run(['config', 'validate', file], blank));
    expect(validated.stderr).toBe('');
    expect(validated.code).toBe(0);
    expect(validated.stdout).toContain(`${file}: valid (1 worker)`);
    const started = run(['--config', file], blank);
    const url = await listening(started);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    started.kill('SIGTERM');
    expect((await output(started)).code).toBe(0);
    // SWITCHYARD_CONFIG=" " names no file
    const noFile = await output(run(['config', 'validate'], { SWITCHYARD_CONFIG: ' ' }));
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('config validate needs a FILE');
  });

  it('takes an empty --host as unset in validate and start alike, as an empty --port (`--host "$UNSET"` listened on every interface)', async () => {
    const file = join(dir, 'empty-host.yaml');
    await writeFile(
      file,
      'server: { port: 0 }\nrequestLog: { store: none }\nproviders: [ { name: mock, type: mock } ]\n',
    );
    // open and on loopback: valid (it was refused as listening on "")
    const validated = await output(run(['config', 'validate', file, '--host', '']));
    expect(validated.stderr).toBe('');
    expect(validated.code).toBe(0);
    const started = run(['--config', file, '--host', ''], {
      SWITCHYARD_MASTER_KEY: 'a-master-key-of-length',
    });
    expect(await listening(started)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    started.kill('SIGTERM');
    expect((await output(started)).code).toBe(0);
  });

  it('takes HOST and --host with spaces around them as PORT is taken, in validate and start alike (HOST="127.0.0.1 " was an open non-loopback address to validate, and "getaddrinfo ENOTFOUND" to start with a master key)', async () => {
    const file = join(dir, 'spaced-host.yaml');
    await writeFile(
      file,
      'server: { port: 0 }\nrequestLog: { store: none }\nproviders: [ { name: mock, type: mock } ]\n',
    );
    for (const [args, env] of [
      [[], { HOST: '127.0.0.1 ' }],
      [[], { HOST: '127.0.0.1\r' }],
      [['--host', ' 127.0.0.1 '], {}],
    ] as const) {
      const validated = await output(run(['config', 'validate', file, ...args], env));
      expect(validated.stderr).toBe('');
      expect(validated.code).toBe(0);
      const started = run(['--config', file, ...args], {
        ...env,
        SWITCHYARD_MASTER_KEY: 'a-master-key-of-length',
      });
      expect(await listening(started)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      started.kill('SIGTERM');
      expect((await output(started)).code).toBe(0);
    }
    // a blank --host is wrong usage, as a blank --port is
    for (const command of [
      ['config', 'validate', file],
      ['--config', file],
    ]) {
      const blank = await output(run([...command, '--host', ' ']));
      expect(blank.code).toBe(2);
      expect(blank.stderr).toContain('--host: " " is not a host name or address.');
    }
  });

  it('refuses a JSON config that gives a key twice, in validate and start alike, as a YAML one is refused (the second admin section silently replaced the first: validate said valid, start ran open)', async () => {
    const file = join(dir, 'duplicate.json');
    await writeFile(
      file,
      '{"providers": [{"name": "mock", "type": "mock"}],\n "admin": {"masterKey": "0123456789abcdef0123"},\n "requestLog": {"store": "none"},\n "admin": {"keySecret": "fedcba9876543210fedc"}}',
    );
    const [validated, started] = await Promise.all([
      output(run(['config', 'validate', file])),
      output(run(['--config', file, '--port', '0'])),
    ]);
    for (const result of [validated, started]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `Invalid configuration in ${file}:\n- cannot parse the file: JSON error DUPLICATE_KEY at line 4, column 2`,
      );
      expect(result.stderr).not.toContain('0123456789abcdef0123');
    }
    expect(started.stdout).not.toContain('listening');
  });

  it('warns, by name only, of a secret variable the config file overrides, in validate and start alike (the README said the environment wins)', async () => {
    const file = join(dir, 'shadowed-secret.yaml');
    await writeFile(
      file,
      'server: { port: 0 }\nadmin: { masterKey: file-master-key-0123456789 }\nrequestLog: { store: none }\nproviders: [ { name: mock, type: mock } ]\n',
    );
    const env = { SWITCHYARD_MASTER_KEY: 'env-master-key-0123456789' };
    const warning =
      "warning: SWITCHYARD_MASTER_KEY is set but not used: the config file's admin.masterKey wins over it (a secret in the file always does); remove one of them";
    const validated = await output(run(['config', 'validate', file], env));
    expect(validated.code).toBe(0);
    expect(validated.stderr).toContain(warning);
    const started = run(['--config', file], env);
    let stderr = '';
    started.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    await listening(started);
    started.kill('SIGTERM');
    expect((await output(started)).code).toBe(0);
    expect(stderr).toContain(warning);
    expect(validated.stderr + stderr).not.toContain('master-key-0123456789');
  });

  it('takes an empty --config as not given in validate and start alike: SWITCHYARD_CONFIG, else (start) the defaults', async () => {
    const file = join(dir, 'empty-config-flag.yaml');
    await writeFile(
      file,
      'server: { port: 0 }\nrequestLog: { store: none }\nproviders: [ { name: mock, type: mock } ]\n',
    );
    // validate read a file named "" (ENOENT), start ignored SWITCHYARD_CONFIG for the defaults
    const validated = await output(run(['config', 'validate', '--config', ''], { SWITCHYARD_CONFIG: file }));
    expect({ code: validated.code, stderr: validated.stderr }).toEqual({ code: 0, stderr: '' });
    const unnamed = await output(run(['config', 'validate', '--config', '']));
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain('config validate needs a FILE');
    const started = run(['--config', ''], { SWITCHYARD_CONFIG: file });
    let said = '';
    started.stdout.on('data', (data: Buffer) => (said += data.toString()));
    await listening(started);
    started.kill('SIGTERM');
    expect((await output(started)).code).toBe(0);
    expect(said).toContain(`(config: ${file};`);
  });

  it('refuses in config validate and start what every request would fail on, naming the field: a provider base URL or proxy route that does not parse, a header name, two static keys with one secret', async () => {
    const providers = join(dir, 'unusable-providers.yaml');
    await writeFile(
      providers,
      [
        'server: { port: 0, host: 127.0.0.1 }',
        'requestLog: { store: none }',
        'providers:',
        '  - { name: a, type: openai, apiKey: x, baseUrl: "https://api.example.com:99999/v1" }',
        '  - { name: b, type: openai, apiKey: x, baseUrl: "https://api.example.com/v1", headers: { "bad header": v } }',
      ].join('\n'),
    );
    const shared = 'sk-sy-shared-secret-0123456789';
    const app = join(dir, 'unusable-app.yaml');
    await writeFile(
      app,
      [
        'server: { port: 0, host: 127.0.0.1 }',
        'requestLog: { store: none }',
        'providers: [ { name: m, type: mock } ]',
        'proxy: { routes: { internal: "https://llm.internal:84430/v1" } }',
        'keys:',
        `  - { key: ${shared}, name: team-a, rpm: 1 }`,
        `  - { key: ${shared}, name: team-b }`,
      ].join('\n'),
    );
    for (const [file, problems] of [
      [
        providers,
        [
          '/providers/0/baseUrl: is not a valid URL',
          '/providers/1/headers: "bad header" is not a valid header name',
        ],
      ],
      [
        app,
        [
          '/keys: static keys "team-a" and "team-b" have the same secret',
          '/proxy/routes/internal: is not a valid URL',
        ],
      ],
    ] as const) {
      const validated = await output(run(['config', 'validate', file, '--json']));
      expect(validated.code).toBe(1);
      expect(JSON.parse(validated.stdout)).toMatchObject({ valid: false, problems });
      const started = await output(run(['--config', file]));
      expect(started.code).toBe(1);
      expect(started.stderr).toContain(`Invalid configuration in ${file}:\n- ${problems[0]}`);
      expect(started.stdout).not.toContain('listening');
      expect(validated.stdout + started.stderr).not.toContain(shared);
    }
  });

  it('blames SWITCHYARD_URL and SWITCHYARD_CONFIG, not a flag, for a bad value from the environment (exit 1, a flag 2), and refuses a malformed PORT the same way, a logs tail --interval past 1h and an empty --since/--until window', async () => {
    const fromEnv = await output(run(['keys', 'list'], { SWITCHYARD_URL: 'localhost:8080' }));
    expect(fromEnv).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        '- SWITCHYARD_URL: is not an http(s) URL (e.g. http://127.0.0.1:8080)',
      ) as unknown,
    });
    const fromFlag = await output(run(['keys', 'list', '--url', 'localhost:8080']));
    expect(fromFlag.code).toBe(2);
    expect(fromFlag.stderr).toContain('--url: "localhost:8080" is not an http(s) URL.');
    const missing = join(dir, 'no-such-config.yaml');
    const noFile = await output(run(['keys', 'list'], { SWITCHYARD_CONFIG: missing }));
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain(`- SWITCHYARD_CONFIG: cannot read ${missing}: ENOENT`);
    const badPort = await output(run(['keys', 'list'], { PORT: 'abc' }));
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toContain('- PORT: "abc" is not an integer from 0 to 65535.');
    // a window that ends before it starts holds no request: refused, not answered as empty
    for (const command of [['usage'], ['logs', 'query']]) {
      const inverted = await output(
        run([...command, '--url', 'http://127.0.0.1:1', '--since', '1h', '--until', '2h']),
      );
      expect(inverted.code).toBe(2);
      expect(inverted.stderr).toMatch(
        /--until: "2h" \(.+\) is not after --since "1h" \(.+\): the window is empty\./,
      );
    }
    // read as the gateway reads expires_at: Date.parse rolled 2027-02-30 over to March
    const expires = await output(
      run(['keys', 'create', '--name', 'x', '--expires', '2027-02-30', '--url', 'http://127.0.0.1:1']),
    );
    expect(expires.code).toBe(2);
    expect(expires.stderr).toContain('--expires: "2027-02-30" is not an ISO 8601 date or date-time');
    // a timer past 2^31-1 ms fires at once: the CLI polled the gateway every millisecond
    const tail = await output(run(['logs', 'tail', '--url', 'http://127.0.0.1:1', '--interval', '30d']));
    expect(tail.code).toBe(2);
    expect(tail.stderr).toContain('--interval: "30d" is longer than 1h.');
  });

  it('refuses a blank secret variable in validate and start alike (SWITCHYARD_METRICS_TOKEN=" " left /metrics public, SWITCHYARD_MASTER_KEY=" " an open gateway, SWITCHYARD_KEY_SECRET=" " a secret derived from the master key)', async () => {
    const file = join(dir, 'blank-secrets.yaml');
    await writeFile(
      file,
      'server: { port: 0, host: 127.0.0.1 }\nrequestLog: { store: none }\nproviders: [ { name: mock, type: mock } ]\n',
    );
    const problems = ['SWITCHYARD_MASTER_KEY', 'SWITCHYARD_KEY_SECRET', 'SWITCHYARD_METRICS_TOKEN'].map(
      (name) => `the environment: ${name} is set but blank: unset it or give a value`,
    );
    const validated = await output(
      run(['config', 'validate', file, '--json'], {
        SWITCHYARD_MASTER_KEY: ' ',
        SWITCHYARD_KEY_SECRET: '\t',
        SWITCHYARD_METRICS_TOKEN: '  ',
      }),
    );
    expect(validated.code).toBe(1);
    expect(JSON.parse(validated.stdout)).toMatchObject({ valid: false, problems });
    const started = await output(run(['--config', file], { SWITCHYARD_METRICS_TOKEN: ' ' }));
    expect(started.code).toBe(1);
    expect(started.stderr).toContain(
      'Invalid configuration in the environment:\n- SWITCHYARD_METRICS_TOKEN is set but blank: unset it or give a value',
    );
    expect(started.stdout).not.toContain('listening');
  });

  it('warns once at start, and in config validate, that /metrics is open when SWITCHYARD_METRICS_TOKEN is empty (taken as unset, as Compose gives an unset variable) and the config has no token', async () => {
    const file = join(dir, 'empty-metrics-token.yaml');
    await writeFile(
      file,
      'server: { port: 0, host: 127.0.0.1 }\nrequestLog: { store: none }\nproviders: [ { name: mock, type: mock } ]\n',
    );
    const warning =
      'warning: SWITCHYARD_METRICS_TOKEN is set but empty, which counts as unset: /metrics is open to anyone who can reach the gateway.';
    const started = async (env: Record<string, string>): Promise<{ stderr: string; metrics: number }> => {
      const child = run(['--config', file], env);
      let stderr = '';
      child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
      const url = await listening(child);
      const metrics = (await fetch(`${url}/metrics`)).status;
      child.kill('SIGTERM');
      await once(child, 'exit');
      return { stderr, metrics };
    };
    const [empty, absent] = await Promise.all([started({ SWITCHYARD_METRICS_TOKEN: '' }), started({})]);
    expect(empty.metrics).toBe(200);
    expect(empty.stderr.split(warning)).toHaveLength(2);
    expect(empty.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(absent).toEqual({ stderr: '', metrics: 200 });
    const validated = await output(
      run(['config', 'validate', file, '--json'], { SWITCHYARD_METRICS_TOKEN: '' }),
    );
    expect(validated.code).toBe(0);
    expect(JSON.parse(validated.stdout)).toMatchObject({
      valid: true,
      warnings: [expect.stringContaining(warning.slice('warning: '.length))],
    });
    const validatedWithToken = await output(
      run(['config', 'validate', file, '--json'], { SWITCHYARD_METRICS_TOKEN: 'metrics-token-0123456789' }),
    );
    expect(JSON.parse(validatedWithToken.stdout)).toMatchObject({ valid: true, warnings: [] });
  });

  // twelve CLI processes
  it(
    "refuses in validate, as start does and before start opens anything, what createApp refuses, named by the config's fields (validate said valid)",
    { timeout: 120_000 },
    async () => {
      const cases = [
        [
          'requestLog: { store: postgres }',
          {},
          '/requestLog/url (or DATABASE_URL): store "postgres" needs a url',
        ],
        [
          'admin: { keyStore: { url: "sqlite:./k.db" } }',
          {},
          '/admin/keySecret (or SWITCHYARD_KEY_SECRET): a persistent key store needs a keySecret',
        ],
        [
          'proxy: { providerKeys: { pinecone: { value: abc } } }',
          {},
          '/proxy/providerKeys/pinecone: no default hosts',
        ],
        [
          'catalog: { models: { my-llama: { contextWindow: 8192 } } }',
          {},
          '/catalog/models/my-llama: a model the catalog does not know needs contextWindow and maxOutputTokens',
        ],
        [
          'requestLog: { store: postgres }',
          { DATABASE_URL: 'mysql://app:db-password-123@db/x' },
          'DATABASE_URL (requestLog.url): Expected string to match',
        ],
        [
          'requestLog: { bodies: true, maxQueuedBodyChars: 1000 }',
          {},
          '/requestLog/maxQueuedBodyChars: 1000 is below two bodies of maxBodyChars (131072)',
        ],
      ] as const;
      for (const [index, [section, env, problem]] of cases.entries()) {
        const work = await mkdtemp(join(dir, `app-check-${index}-`));
        const file = join(work, 'gateway.yaml');
        await writeFile(file, `${section}\nproviders: [ { name: mock, type: mock } ]\n`);
        // in a directory of their own: a relative sqlite path (the default request log) lands there
        const inWork = (args: string[]): ChildProcessWithoutNullStreams => {
          const child = spawn(process.execPath, [CLI, ...args], {
            cwd: work,
            env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'silent', SWITCHYARD_WORKERS: '1', ...env },
          });
          children.push(child);
          return child;
        };
        const [validated, started] = await Promise.all([
          output(inWork(['config', 'validate', file])),
          output(inWork(['--config', file, '--port', '0'])),
        ]);
        for (const result of [validated, started]) {
          expect(result.code, `${section} ${JSON.stringify(env)}`).toBe(1);
          expect(result.stderr).toContain(problem);
          expect(result.stderr).not.toContain('db-password-123');
        }
        expect(validated.stdout).not.toContain('valid');
        // refused before the request log's SQLite file (or the key store's) was created
        expect(await readdir(work)).toEqual(['gateway.yaml']);
      }
    },
  );

  it("prints each command's own usage for --help (start --help printed the overview, without start's environment)", async () => {
    const start = await output(run(['start', '--help']));
    expect(start.code).toBe(0);
    for (const name of [
      'SWITCHYARD_WORKERS',
      'OPENAI_BASE_URL',
      'AWS_REGION',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'NODE_ENV',
    ])
      expect(start.stdout).toContain(name);
    expect(start.stdout).not.toContain('switchyard keys');
    expect((await output(run(['--port', '0', '-h']))).stdout).toBe(start.stdout);
    const overview = await output(run(['--help']));
    expect(overview.stdout).toContain('switchyard keys create|update|list|revoke|rotate');
    const commands = [
      [['config', '--help'], 'switchyard config validate'],
      [['config', 'validate', '--help'], 'switchyard config validate'],
      [['keys', 'create', '--help'], 'switchyard keys create'],
      [['keys', 'revoke', '--help'], 'switchyard keys revoke'],
      [['usage', '--help'], 'switchyard usage'],
      [['logs', 'tail', '--help'], 'switchyard logs tail'],
      [['runs', 'show', '--help'], 'switchyard runs show'],
      [['bench', '--help'], 'switchyard bench'],
      [['healthcheck', '--help'], 'switchyard healthcheck'],
    ] as const;
    const results = await Promise.all(commands.map(([args]) => output(run([...args]))));
    results.forEach((result, index) => {
      expect(result.code).toBe(0);
      expect(result.stdout.startsWith('Usage:\n  switchyard ')).toBe(true);
      expect(result.stdout).toContain(commands[index]?.[1]);
    });
  });

  it('exits 2 for a malformed flag value in start and validate alike (--workers 0 and validate --port abc exited 1)', async () => {
    const file = join(dir, 'minimal.yaml');
    await writeFile(file, 'providers: [ { name: mock, type: mock } ]\n');
    const results = await Promise.all([
      output(run(['--config', file, '--port', 'abc'])),
      output(run(['--config', file, '--workers', '0'])),
      output(run(['start', '--config', file, '--workers', 'many'])),
      output(run(['config', 'validate', file, '--port', 'abc'])),
      output(run(['config', 'validate', file, '--workers', '0', '--json'])),
    ]);
    expect(results.map((result) => result.code)).toEqual([2, 2, 2, 2, 2]);
    expect(results[1]?.stderr).toContain('--workers: "0" is not an integer from 1 to 256.');
    expect(results[3]?.stderr).toContain('--port: "abc" is not an integer from 0 to 65535.');
    expect(JSON.parse(results[4]?.stderr ?? '')).toMatchObject({ error: { exit_code: 2 } });
    // the environment's values stay problems of the configuration, as validate reports them
    const [envPort, envWorkers] = await Promise.all([
      output(run(['--config', file], { PORT: 'http' })),
      output(run(['--config', file], { SWITCHYARD_WORKERS: '0' })),
    ]);
    expect([envPort.code, envWorkers.code]).toEqual([1, 1]);
    expect(envPort.stderr).toContain(
      'Invalid configuration in the environment:\n- PORT: "http" is not an integer',
    );
  });

  it('rejects an unknown command with usage and exit code 2', async () => {
    const result = await output(run(['frobnicate']));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage:');
  });

  it('finishes an in-flight request on SIGTERM and exits 0', async () => {
    upstream.fault({ kind: 'delay', ms: 300, times: 1 });
    const child = run(['--port', '0'], {
      OPENAI_API_KEY: 'sk-env-key-0000000000',
      OPENAI_BASE_URL: `${upstream.url}/v1`,
    });
    const url = await listening(child);
    const arrived = once(upstream.events, 'request');
    const inflight = fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await arrived;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const response = await inflight;
    expect(response.status).toBe(200);
    const [code] = (await exited) as [number];
    expect(code).toBe(0);
  });
});
