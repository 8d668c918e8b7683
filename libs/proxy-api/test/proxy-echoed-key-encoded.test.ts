import { brotliCompressSync, deflateSync, gzipSync, gunzipSync } from 'node:zlib';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/index';
import { recordReports, resolveToLoopback } from './support/proxy-reports';

// The universal proxy masks the provider key it injected where an upstream's error answer
// quotes it back. It used to do so only for an identity-coded body: a client that sent
// `Accept-Encoding: gzip` got the error compressed, the key intact inside. Now the request asks
// only for codings the gateway can decode, an encoded error answer is decoded and masked, and
// one in a coding the gateway cannot read is refused.

const INJECTED = 'CANARYinjected-mistral-key-0123456789';
const MASKED = '*'.repeat(INJECTED.length);

const ENCODERS: Record<string, (body: Buffer) => Buffer> = {
  gzip: gzipSync,
  br: brotliCompressSync,
  deflate: deflateSync,
};

let upstream: MockUpstream;
let app: FastifyInstance;
let base = '';
const reports = recordReports();

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        // quotes the credentials it was sent, in the coding `?coding=` names (else the client's first)
        method: 'GET',
        path: /\/echo-key$/,
        handle: ({ req, res, url }) => {
          const status = Number(url.searchParams.get('status') ?? 401);
          const accepted = String(req.headers['accept-encoding'] ?? '');
          const coding = url.searchParams.get('coding') ?? accepted.split(/[,;]/)[0]?.trim() ?? '';
          const pad = Number(url.searchParams.get('pad') ?? 0);
          const plain = Buffer.from(
            JSON.stringify({ error: { message: `Invalid key: ${req.headers.authorization}` } }) +
              ' '.repeat(pad),
          );
          const encode = ENCODERS[coding];
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          let body: Buffer = url.searchParams.has('empty') ? Buffer.alloc(0) : plain;
          if (body.length === 0) {
            headers['content-encoding'] = coding;
          } else if (encode !== undefined) {
            body = encode(plain);
            headers['content-encoding'] = coding;
          } else if (coding !== '' && coding !== 'identity') {
            // a coding the gateway has no decoder for: bytes it cannot look into
            body = Buffer.from(plain.toString('base64'));
            headers['content-encoding'] = coding;
          }
          headers['content-length'] = String(body.length);
          res.writeHead(status, headers);
          res.end(body);
        },
      },
    ],
  });
  app = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [reports.plugin] },
    proxy: {
      routes: { local: upstream.url },
      hostProviders: { '127.0.0.1': 'mistral' },
      allowAddresses: ['127.0.0.1'],
      providerKeys: { mistral: { value: `Bearer ${INJECTED}`, hosts: ['api.mistral.ai', '127.0.0.1'] } },
      resolve: resolveToLoopback,
    },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  await upstream.close();
});

beforeEach(() => {
  upstream.reset();
  reports.clear();
});

async function proxied(
  query: string,
  acceptEncoding: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const response = await request(`${base}/proxy/local/echo-key${query}`, {
    headers: { 'accept-encoding': acceptEncoding },
  });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: response.headers, body };
}

describe('universal proxy: the injected key in an encoded error answer', () => {
  it.each(['gzip', 'br', 'deflate'])(
    'is masked in a %s error answer, which the client gets decoded',
    async (coding) => {
      const { status, headers, body } = await proxied('', coding);
      expect(status).toBe(401);
      expect(upstream.requests[0]?.headers['authorization']).toBe(`Bearer ${INJECTED}`);
      expect(headers['content-encoding']).toBeUndefined();
      const text = body.toString('utf8');
      expect(text).toBe(JSON.stringify({ error: { message: `Invalid key: Bearer ${MASKED}` } }));
      // the decoded length, not the upstream's compressed one
      expect(
        headers['content-length'] === undefined || Number(headers['content-length']) === body.length,
      ).toBe(true);
      const report = await reports.proxyReport();
      expect(report.statusCode).toBe(401);
      expect(report.error).toBeUndefined();
    },
  );

  it('asks the upstream only for codings the gateway decodes, identity when none is left', async () => {
    await proxied('', 'zstd, gzip;q=0.5, *;q=0.1');
    await proxied('', 'zstd');
    expect(upstream.requests.map((received) => received.headers['accept-encoding'])).toEqual([
      'gzip;q=0.5',
      'identity',
    ]);
  });

  it('refuses an error answer in a coding it cannot decode rather than forward the key unchecked', async () => {
    const { status, headers, body } = await proxied('?coding=zstd', 'gzip');
    expect(status).toBe(502);
    expect(headers['content-encoding']).toBeUndefined();
    expect(body.toString('utf8')).toContain('content coding the gateway cannot check for its key (zstd)');
    expect(body.toString('utf8')).not.toContain(Buffer.from(INJECTED).toString('base64').slice(0, 12));
    const report = await reports.proxyReport();
    expect(report.error?.type).toBe('upstream_error');
  });

  it('cuts an error answer that decodes past its bound, without the key', async () => {
    // 2 MiB of padding compresses to a few KiB: a small answer that decodes past 1 MiB
    const response = await request(`${base}/proxy/local/echo-key?pad=${2 * 1024 * 1024}`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(response.statusCode).toBe(401);
    const received: Buffer[] = [];
    const read = (async () => {
      for await (const chunk of response.body) received.push(chunk as Buffer);
    })();
    await expect(read).rejects.toThrow();
    const got = Buffer.concat(received);
    expect(got.length).toBeLessThanOrEqual(1024 * 1024);
    expect(got.toString('utf8')).not.toContain(INJECTED);
    const report = await reports.proxyReport();
    expect(report.error).toBeDefined();
  });

  it('passes an empty encoded error answer as it came (no bytes for a decoder to read)', async () => {
    const { status, headers, body } = await proxied('?empty=1', 'gzip');
    expect(status).toBe(401);
    expect(headers['content-encoding']).toBe('gzip');
    expect(body.length).toBe(0);
    expect((await reports.proxyReport()).error).toBeUndefined();
  });

  it('leaves a successful answer as the upstream encoded it', async () => {
    const { status, headers, body } = await proxied('?status=200', 'gzip');
    expect(status).toBe(200);
    expect(headers['content-encoding']).toBe('gzip');
    // success answers are not masked: the client's own request, its own answer
    expect(gunzipSync(body).toString('utf8')).toContain('Invalid key: Bearer ');
  });
});
