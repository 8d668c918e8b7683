import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// These tests run the built binary (the nx test target depends on build), as a user would.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];
let upstream: MockUpstream;
let dir: string;

function run(args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [CLI, ...args], {
    // one process: workers are covered by cluster.test.ts
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'silent', SWITCHYARD_WORKERS: '1', ...env },
  });
  children.push(child);
  return child;
}

async function output(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; stdout: string; stderr: string }> {
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
    child.once('exit', (code) => reject(new Error(`the gateway exited (${String(code)}) before listening: ${text}`)));
  });
}

beforeAll(async () => {
  upstream = await createMockUpstream();
  dir = await mkdtemp(join(tmpdir(), 'switchyard-cli-'));
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(() => upstream.close());

describe('switchyard CLI', () => {
  it('starts on embedded defaults with the mock provider and prints a curl example', async () => {
    const child = run(['--port', '0']);
    const url = await listening(child);
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

  it('adds an openai provider when OPENAI_API_KEY is set', async () => {
    const child = run(['start', '--port', '0'], { OPENAI_API_KEY: 'sk-env-key-0000000000', OPENAI_BASE_URL: `${upstream.url}/v1` });
    const url = await listening(child);
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    expect(upstream.requests.at(-1)?.headers['authorization']).toBe('Bearer sk-env-key-0000000000');
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
    await writeFile(semantic, 'providers: [ { name: a, type: nope } ]\nmodels: [ { name: m, targets: [ { provider: ghost, model: x } ] } ]\n');
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

  it('rejects an unknown command with usage and exit code 2', async () => {
    const result = await output(run(['frobnicate']));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage:');
  });

  it('finishes an in-flight request on SIGTERM and exits 0', async () => {
    upstream.fault({ kind: 'delay', ms: 300, times: 1 });
    const child = run(['--port', '0'], { OPENAI_API_KEY: 'sk-env-key-0000000000', OPENAI_BASE_URL: `${upstream.url}/v1` });
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
