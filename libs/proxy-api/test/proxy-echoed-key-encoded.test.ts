import type { ServerResponse } from 'node:http';
import { brotliCompressSync, deflateRawSync, deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/index';
import { recordReports, resolveToLoopback } from './support/proxy-reports';

// The universal proxy masks the provider key it injected where an upstream's error answer
// quotes it back. It used to do so only for an identity-coded body: a client that sent
// `Accept-Encoding: gzip` got the error compressed, the key intact inside. Now the request asks
// only for codings the gateway can decode, an encoded error answer is decoded whole and masked,
// and one the gateway cannot read is refused with 502 before anything is sent.

const INJECTED = 'CANARYinjected-mistral-key-0123456789';
const MASKED = '*'.repeat(INJECTED.length);

const ENCODERS: Record<string, (body: Buffer) => Buffer> = {
  gzip: gzipSync,
  br: brotliCompressSync,
  deflate: deflateSync,
};

/** The Content-Encoding header and the bytes an upstream sends for `coding` (a test's name for it). */
function encoded(coding: string, plain: Buffer): [string | string[] | undefined, Buffer] {
  const encode = ENCODERS[coding];
  if (plain.length === 0) return [coding, plain];
  if (encode !== undefined) return [coding, encode(plain)];
  switch (coding) {
    case 'deflate-raw': // the bare deflate stream some servers send as `deflate`
      return ['deflate', deflateRawSync(plain)];
    case 'corrupt-gzip': // says gzip, is not
      return ['gzip', plain];
    case 'identity-then-gzip': // two Content-Encoding lines
      return [['identity', 'gzip'], gzipSync(plain)];
    case 'gzip-then-br': // two codings applied
      return ['gzip, br', brotliCompressSync(gzipSync(plain))];
    case '':
    case 'identity':
      return [undefined, plain];
    default: // a coding the gateway has no decoder for: bytes it cannot look into
      return [coding, Buffer.from(plain.toString('base64'))];
  }
}

let upstream: MockUpstream;
let app: FastifyInstance;
let base = '';
/** The same proxy with a short body idle timeout. */
let impatient: FastifyInstance;
let impatientBase = '';
const reports = recordReports();
/** Answers the stall route began and never finished; each tells the test it has written. */
const stalled: ServerResponse[] = [];
let onStall: () => void = () => undefined;

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        // quotes the credentials it was sent, in the coding `?coding=` names (else the client's
        // first); `?empty` sends no bytes, `?chunked` no Content-Length, `?pad=N` N more spaces
        method: 'GET',
        path: /\/echo-key$/,
        handle: ({ req, res, url }) => {
          const status = Number(url.searchParams.get('status') ?? 401);
          const accepted = String(req.headers['accept-encoding'] ?? '');
          const coding = url.searchParams.get('coding') ?? accepted.split(/[,;]/)[0]?.trim() ?? '';
          const pad = Number(url.searchParams.get('pad') ?? 0);
          const plain = url.searchParams.has('empty')
            ? Buffer.alloc(0)
            : Buffer.from(
                JSON.stringify({ error: { message: `Invalid key: ${req.headers.authorization}` } }) +
                  ' '.repeat(pad),
              );
          const [header, body] = encoded(coding, plain);
          const headers: Record<string, string | string[]> = {
            'content-type': 'application/json',
            etag: '"upstream-bytes"',
            'content-range': 'bytes */1',
          };
          if (header !== undefined) headers['content-encoding'] = header;
          if (!url.searchParams.has('chunked')) headers['content-length'] = String(body.length);
          res.writeHead(status, headers);
          res.end(body);
        },
      },
      {
        // a gzip error answer whose body stops halfway and never ends
        method: 'GET',
        path: /\/stall-key$/,
        handle: ({ res }) => {
          const body = gzipSync(
            Buffer.from(JSON.stringify({ error: { message: `Invalid key ${INJECTED}` } })),
          );
          res.writeHead(401, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          res.write(body.subarray(0, 12), () => onStall());
          stalled.push(res);
        },
      },
    ],
  });
  const proxy = {
    routes: { local: upstream.url },
    hostProviders: { '127.0.0.1': 'mistral' },
    allowAddresses: ['127.0.0.1'],
    providerKeys: { mistral: { value: `Bearer ${INJECTED}`, hosts: ['api.mistral.ai', '127.0.0.1'] } },
    resolve: resolveToLoopback,
  };
  const gateway = { providers: [{ name: 'mock', type: 'mock' as const }], plugins: [reports.plugin] };
  app = createApp({ gateway, proxy });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  impatient = createApp({ gateway, proxy: { ...proxy, bodyIdleTimeoutMs: 300 } });
  impatientBase = await impatient.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  for (const res of stalled) res.destroy();
  await app.close();
  await impatient.close();
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

  it.each(['deflate-raw', 'identity-then-gzip'])(
    'masks a %s error answer too (bare deflate, labelled deflate; every Content-Encoding line counts)',
    async (coding) => {
      const { status, headers, body } = await proxied(`?coding=${coding}`, 'gzip');
      expect(status).toBe(401);
      expect(headers['content-encoding']).toBeUndefined();
      expect(body.toString('utf8')).toBe(
        JSON.stringify({ error: { message: `Invalid key: Bearer ${MASKED}` } }),
      );
      expect((await reports.proxyReport()).error).toBeUndefined();
    },
  );

  it('drops the headers that describe the encoded bytes: coding, length, digest', async () => {
    const { headers, body } = await proxied('', 'gzip');
    expect(headers['etag']).toBeUndefined();
    expect(headers['content-range']).toBeUndefined();
    expect(Number(headers['content-length'])).toBe(body.length);
    // an identity-coded error answer keeps them: its bytes are the upstream's, but for the mask
    const plain = await proxied('?coding=identity', 'gzip');
    expect(plain.headers['etag']).toBe('"upstream-bytes"');
    expect(plain.body.toString('utf8')).toContain(MASKED);
  });

  it.each([
    ['zstd', 'content coding "zstd"'],
    ['gzip-then-br', 'content coding "gzip, br"'],
    ['corrupt-gzip', 'does not decode as gzip'],
  ])('refuses a %s error answer with 502 rather than forward the key unchecked', async (coding, why) => {
    const { status, headers, body } = await proxied(`?coding=${coding}`, 'gzip');
    expect(status).toBe(502);
    expect(headers['content-encoding']).toBeUndefined();
    expect(headers['etag']).toBeUndefined();
    const text = body.toString('utf8');
    const message = (JSON.parse(text) as { error: { message: string } }).error.message;
    expect(message).toContain('the gateway cannot check for its key');
    expect(message).toContain(why);
    expect(text).not.toContain(INJECTED);
    expect(text).not.toContain(Buffer.from(INJECTED).toString('base64').slice(0, 12));
    const report = await reports.proxyReport();
    expect(report.error?.code).toBe('upstream_error');
    expect(report.statusCode).toBe(502);
  });

  it('refuses an encoded error answer that decodes past 1 MiB, before sending anything', async () => {
    // 2 MiB of padding compresses to a few KiB: a small answer that decodes past the bound
    const { status, body } = await proxied(`?pad=${2 * 1024 * 1024}`, 'gzip');
    expect(status).toBe(502);
    expect(body.toString('utf8')).toContain('does not decode as gzip within 1048576 bytes');
    expect(body.toString('utf8')).not.toContain(INJECTED);
    expect((await reports.proxyReport()).error?.code).toBe('upstream_error');
  });

  it('streams a large identity-coded error answer through the mask whole', async () => {
    const { status, body } = await proxied(`?coding=identity&pad=${2 * 1024 * 1024}`, 'gzip');
    expect(status).toBe(401);
    expect(body.length).toBeGreaterThan(2 * 1024 * 1024);
    expect(body.toString('utf8')).toContain(`Invalid key: Bearer ${MASKED}`);
    expect((await reports.proxyReport()).error).toBeUndefined();
  });

  it('passes an empty error answer in a coding it cannot decode as it came: nothing to check', async () => {
    const { status, headers, body } = await proxied('?empty=1&coding=zstd', 'gzip');
    expect(status).toBe(401);
    expect(headers['content-encoding']).toBe('zstd');
    expect(body.length).toBe(0);
    expect((await reports.proxyReport()).error).toBeUndefined();
  });

  it.each([
    ['?empty=1', 'gzip'],
    ['?empty=1&chunked=1', undefined],
  ])('answers an empty encoded error answer (%s) with its status and no body', async (query, coding) => {
    const { status, headers, body } = await proxied(query, 'gzip');
    expect(status).toBe(401);
    // Content-Length 0 passes as it came; a chunked one is read (nothing) and sent decoded
    expect(headers['content-encoding']).toBe(coding);
    expect(body.length).toBe(0);
    expect((await reports.proxyReport()).error).toBeUndefined();
  });

  it('ends a whole-body read that goes silent at the body idle timeout: 504, nothing of the body sent', async () => {
    const response = await request(`${impatientBase}/proxy/local/stall-key`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(response.statusCode).toBe(504);
    const text = await response.body.text();
    expect(text).toContain('upstream_timeout');
    expect(text).not.toContain(INJECTED);
    expect((await reports.proxyReport()).error?.code).toBe('upstream_timeout');
  });

  it('ends a whole-body read when the client leaves: the row says the client closed the request', async () => {
    const controller = new AbortController();
    const wrote = new Promise<void>((resolve) => (onStall = resolve));
    const call = request(`${base}/proxy/local/stall-key`, {
      headers: { 'accept-encoding': 'gzip' },
      signal: controller.signal,
    });
    await wrote;
    controller.abort();
    await expect(call).rejects.toThrow();
    expect((await reports.proxyReport()).error?.code).toBe('client_closed_request');
  });

  it('leaves a successful answer as the upstream encoded it', async () => {
    const { status, headers, body } = await proxied('?status=200', 'gzip');
    expect(status).toBe(200);
    expect(headers['content-encoding']).toBe('gzip');
    // success answers are not masked: the client's own request, its own answer
    expect(gunzipSync(body).toString('utf8')).toContain('Invalid key: Bearer ');
  });
});
