import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, gunzipSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/index';
import { recordReports, resolveToLoopback } from './support/proxy-reports';

// OpenAI's SDKs accept gzip, and a bulk embeddings answer (base64 vectors, past the capture
// size) came back compressed: the capture could only decode a body it kept whole, so the answer
// was logged with no tokens and no cost. It is now decoded as it streams into a head and tail,
// and its usage is read from the tail as an uncompressed answer's is.

const CAPTURE_BYTES = 64 * 1024;
const USAGE = { prompt_tokens: 4096, total_tokens: 4096 };

/** An embeddings answer of about `bytes`, base64 vectors (which compress poorly) before its model and usage. */
function embeddingsAnswer(bytes: number): Buffer {
  const vector = (): string => randomBytes(6144).toString('base64');
  const data = Array.from({ length: Math.ceil(bytes / 8192) }, (_, index) => ({
    object: 'embedding',
    index,
    embedding: vector(),
  }));
  return Buffer.from(JSON.stringify({ object: 'list', data, model: 'text-embedding-3-small', usage: USAGE }));
}

/** An embeddings answer of `vectors` float vectors (the default encoding_format), before its model and usage. */
function floatEmbeddingsAnswer(vectors: number): Buffer {
  const data = Array.from({ length: vectors }, (_, index) => ({
    object: 'embedding',
    index,
    embedding: Array.from({ length: 256 }, (_, at) => Number((Math.sin(index * 256 + at) * 0.1).toFixed(9))),
  }));
  return Buffer.from(JSON.stringify({ object: 'list', data, model: 'text-embedding-3-small', usage: USAGE }));
}

const answer = embeddingsAnswer(3 * CAPTURE_BYTES);
const encoded: Record<string, Buffer> = { gzip: gzipSync(answer), br: brotliCompressSync(answer) };
// numbers as text compress some twofold: past the capture size decoded, within it compressed
const floats = floatEmbeddingsAnswer(40);
const encodedFloats: Record<string, Buffer> = { gzip: gzipSync(floats), br: brotliCompressSync(floats) };

let upstream: Server;
const stalled: ServerResponse[] = [];
let port: number;
const reports = recordReports();
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    req.once('end', () => {
      if (req.headers['x-test-stalls'] !== undefined) {
        // past the capture size, then silence with the connection held open
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.write(encoded.gzip!.subarray(0, 2 * CAPTURE_BYTES));
        stalled.push(res);
        return;
      }
      const coding = req.headers['x-test-coding'] as string;
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': coding });
      res.end((req.headers['x-test-floats'] === undefined ? encoded : encodedFloats)[coding]);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  port = (upstream.address() as AddressInfo).port;
  app = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [reports.plugin] },
    pricing: { models: { 'openai/text-embedding-3-small': { inputPerMTok: 0.02, outputPerMTok: 0 } } },
    proxy: { allowAddresses: ['127.0.0.1'], resolve: resolveToLoopback, maxCaptureBytes: CAPTURE_BYTES },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  for (const res of stalled) res.destroy();
  await app.close();
  await new Promise((resolve) => upstream.close(resolve));
});

describe('universal proxy: a compressed answer past the capture size', () => {
  it.each(['gzip', 'br'])(
    'meters a %s embeddings answer from the usage in its decoded tail, and forwards its bytes untouched',
    async (coding) => {
      expect(encoded[coding]!.length).toBeGreaterThan(CAPTURE_BYTES);
      const response = await request(`${base}/proxy/v1/embeddings`, {
        method: 'POST',
        headers: {
          'x-switchyard-target': `http://api.openai.com:${port}`,
          'content-type': 'application/json',
          'accept-encoding': 'gzip, br',
          'x-test-coding': coding,
        },
        body: JSON.stringify({ model: 'text-embedding-3-small', input: ['a'], encoding_format: 'base64' }),
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-encoding']).toBe(coding);
      const body = Buffer.from(await response.body.arrayBuffer());
      expect(body.equals(encoded[coding]!)).toBe(true);
      if (coding === 'gzip') expect(gunzipSync(body).equals(answer)).toBe(true);
      const report = await reports.proxyReport();
      expect(report.usage).toMatchObject({ prompt_tokens: 4096 });
      expect(report.costUsd).toBeCloseTo(4096 * 0.02e-6, 12);
    },
  );

  it.each(['gzip', 'br'])(
    'meters a %s embeddings answer that fits the capture compressed but decodes past it, from its decoded tail',
    async (coding) => {
      expect(encodedFloats[coding]!.length).toBeLessThanOrEqual(CAPTURE_BYTES);
      expect(floats.length).toBeGreaterThan(CAPTURE_BYTES);
      const response = await request(`${base}/proxy/v1/embeddings`, {
        method: 'POST',
        headers: {
          'x-switchyard-target': `http://api.openai.com:${port}`,
          'content-type': 'application/json',
          'accept-encoding': 'gzip, br',
          'x-test-coding': coding,
          'x-test-floats': '1',
        },
        body: JSON.stringify({ model: 'text-embedding-3-small', input: ['a'] }),
      });
      expect(response.statusCode).toBe(200);
      const body = Buffer.from(await response.body.arrayBuffer());
      expect(body.equals(encodedFloats[coding]!)).toBe(true);
      const report = await reports.proxyReport();
      expect(report.usage).toMatchObject({ prompt_tokens: 4096 });
      expect(report.costUsd).toBeCloseTo(4096 * 0.02e-6, 12);
    },
  );

  it('ends the exchange of a client that left mid-way through a compressed answer', async () => {
    // that the decode stops with the aborted capture is body-capture.test.ts's (the order of the
    // abort's teardown and the settling here is the event loop's): here, the report still comes
    const response = await request(`${base}/proxy/v1/embeddings`, {
      method: 'POST',
      headers: {
        'x-switchyard-target': `http://api.openai.com:${port}`,
        'content-type': 'application/json',
        'accept-encoding': 'gzip',
        'x-test-stalls': '1',
      },
      body: JSON.stringify({ model: 'text-embedding-3-small', input: ['a'] }),
    });
    expect(response.statusCode).toBe(200);
    // the client reads past the capture size (the decode has started), then leaves
    let read = 0;
    for await (const chunk of response.body) {
      read += (chunk as Buffer).length;
      if (read >= 2 * CAPTURE_BYTES) break;
    }
    const report = await reports.proxyReport();
    expect(report.error?.code).toBe('client_closed_request');
    expect(report.usage).toBeUndefined();
  });
});
