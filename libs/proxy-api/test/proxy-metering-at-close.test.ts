import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openDatabase } from '@switchyard/proxy-logging';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/index';

// A proxied exchange is metered after its response closed: a compressed answer is decoded on
// libuv's pool first. The app's close used to wait for the response only, then close the request
// log it owns: an exchange still in flight at shutdown lost its row (and its cost) whenever its
// answer came compressed. Its metering now finishes before the request log closes.

const ANSWER = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
};

let upstream: MockUpstream | undefined;
let dir: string | undefined;

afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function rowsAfterCloseDuringExchange(coding: 'gzip' | 'identity'): Promise<unknown[]> {
  let arrived: () => void = () => undefined;
  const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  upstream = await createMockUpstream({
    routes: [
      {
        method: 'POST',
        path: /\/v1\/chat\/completions$/,
        // holds its answer until the test has begun closing the app
        handle: async ({ res }) => {
          arrived();
          await released;
          const plain = Buffer.from(JSON.stringify(ANSWER));
          if (coding === 'gzip') {
            res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
            res.end(gzipSync(plain));
          } else {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(plain);
          }
        },
      },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'sy-proxy-close-'));
  const path = join(dir, 'switchyard.db');
  const app = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }] },
    requestLog: { store: 'sqlite', path },
    proxy: {
      routes: { local: upstream.url },
      allowAddresses: ['127.0.0.1'],
      hostProviders: { '127.0.0.1': 'openai' },
    },
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const answered = request(`${base}/proxy/local/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await requestArrived;
  // shutdown begins while the exchange is in flight; the upstream answers after
  const closed = app.close();
  release();
  const response = await answered;
  expect(response.statusCode).toBe(200);
  await response.body.arrayBuffer();
  await closed;
  const db = await openDatabase({ url: `sqlite:${path}` });
  try {
    return await db.query('SELECT endpoint, status, input_tokens, output_tokens FROM switchyard_requests');
  } finally {
    await db.close();
  }
}

describe('universal proxy: metering at shutdown', () => {
  it('writes the row of a proxied exchange with a gzip answer still in flight when the app closes', async () => {
    expect(await rowsAfterCloseDuringExchange('gzip')).toEqual([
      expect.objectContaining({ endpoint: 'proxy', status: 200, input_tokens: 11, output_tokens: 7 }),
    ]);
  });

  it('writes the row of a proxied exchange with an identity answer still in flight when the app closes', async () => {
    expect(await rowsAfterCloseDuringExchange('identity')).toEqual([
      expect.objectContaining({ endpoint: 'proxy', status: 200, input_tokens: 11, output_tokens: 7 }),
    ]);
  });
});
