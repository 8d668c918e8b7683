import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMockUpstream, sendJson, startSse, writeSse, type MockUpstream } from '@switchyard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from './gateway-process';

// Every other suite runs the libs' sources; this one runs the gateway as built (the nx test
// target depends on build), over the libs' built packages. What it checks rests on marks the
// engine puts on its results, which a bundler can drop as dead code while every test of the
// sources still passes: forwarding the upstream's own JSON text, unchanged, was lost that way.

// JSON text no serialiser writes (spaces after colons and commas), so the client receives it
// only if the gateway forwards the upstream's text instead of serialising the parsed value again
const spaced = (value: unknown): string => JSON.stringify(value).replace(/":/g, '": ').replace(/,"/g, ', "');
const chunk = (delta: Record<string, unknown>, finish: string | null, usage?: Record<string, number>) =>
  spaced({
    id: 'chatcmpl-spaced',
    object: 'chat.completion.chunk',
    created: 1_741_569_952,
    model: 'gpt-4o-mini',
    choices: usage === undefined ? [{ index: 0, delta, finish_reason: finish }] : [],
    ...(usage === undefined ? {} : { usage }),
  });
const USAGE = { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 };
const CHUNKS = [
  chunk({ role: 'assistant', content: '' }, null),
  chunk({ content: 'Hi ' }, null),
  chunk({ content: 'there' }, null),
  chunk({}, 'stop'),
  chunk({}, null, USAGE),
];
const RESPONSE = spaced({
  id: 'chatcmpl-spaced',
  object: 'chat.completion',
  created: 1_741_569_952,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hi there' }, finish_reason: 'stop' }],
  usage: USAGE,
});

let upstream: MockUpstream;
let gateway: GatewayProcess | undefined;
let dir: string | undefined;

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        method: 'POST',
        path: /^\/v1\/chat\/completions$/,
        async handle({ res, body }) {
          if ((body as { stream?: boolean }).stream !== true) {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(RESPONSE);
            return;
          }
          startSse(res);
          for (const data of CHUNKS) await writeSse(res, data);
          await writeSse(res, '[DONE]');
          res.end();
        },
      },
      // anything else is a mistake in this suite: a loud answer, not a mock reply
      {
        method: 'POST',
        path: /./,
        handle: ({ res }) => sendJson(res, 404, { error: { message: 'not in this suite' } }),
      },
    ],
  });
  dir = await mkdtemp(join(tmpdir(), 'switchyard-built-'));
  const config = join(dir, 'gateway.yaml');
  await writeFile(
    config,
    [
      'server: { port: 0, host: 127.0.0.1 }',
      'providers:',
      `  - { name: up, type: openai, apiKey: sk-built-0000000000, baseUrl: "${upstream.url}/v1" }`,
      'models:',
      '  - name: gpt-4o-mini',
      '    targets: [ { provider: up, model: gpt-4o-mini } ]',
    ].join('\n'),
  );
  // run from the config's directory: its request log (the default, SQLite at ./switchyard.db) goes there
  gateway = await startGatewayProcess(
    ['start', '--config', config],
    { SWITCHYARD_WORKERS: '1' },
    { cwd: dir },
  );
});
afterEach(() => {
  if (gateway !== undefined && gateway.child.exitCode !== null)
    throw new Error(`the gateway exited: ${gateway.stderr()}`);
});
afterAll(async () => {
  gateway?.child.kill('SIGTERM');
  await gateway?.exited;
  await upstream.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

// each test asks its own question: the response cache (on by default) keys answers by it
const ask = (stream: boolean, content: string): Promise<Response> =>
  fetch(`${gateway!.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gpt-4o-mini',
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      messages: [{ role: 'user', content }],
    }),
  });
const dataOf = async (response: Response): Promise<string[]> =>
  (await response.text())
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice('data: '.length));

describe('the built gateway and libs', () => {
  it("send a non-streamed answer nothing changed as the upstream's own text", async () => {
    const response = await ask(false, 'hi');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-switchyard-cache')).toBe('MISS');
    expect(await response.text()).toBe(RESPONSE);
  });

  it("forward each streamed chunk nothing changed as the upstream's own text", async () => {
    const response = await ask(true, 'hi');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-switchyard-cache')).toBe('MISS');
    expect(await dataOf(response)).toEqual([...CHUNKS, '[DONE]']);
  });

  it('answer a repeated question from the cache with the same answer, whole and streamed', async () => {
    const calls = upstream.requests.length;
    expect(await (await ask(false, 'again')).text()).toBe(RESPONSE);
    const hit = await ask(false, 'again');
    expect(hit.status).toBe(200);
    expect(hit.headers.get('x-switchyard-cache')).toBe('HIT');
    expect(await hit.json()).toEqual(JSON.parse(RESPONSE));

    expect(await dataOf(await ask(true, 'again'))).toEqual([...CHUNKS, '[DONE]']);
    const streamHit = await ask(true, 'again');
    expect(streamHit.status).toBe(200);
    expect(streamHit.headers.get('x-switchyard-cache')).toBe('HIT');
    const data = await dataOf(streamHit);
    expect(data.at(-1)).toBe('[DONE]');
    expect(data.slice(0, -1).map((text) => JSON.parse(text) as unknown)).toEqual(
      CHUNKS.map((text) => JSON.parse(text) as unknown),
    );
    expect(upstream.requests.length).toBe(calls + 2);
  });
});
