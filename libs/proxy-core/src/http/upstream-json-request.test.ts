import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, MockAgent, interceptors, type Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { rejection } from '../../test/support/provider-test-kit';
import { useUpstreamTestServer } from '../../test/support/upstream-test-server';
import { SwitchyardError } from '../errors/switchyard-error';
import { AbortSourceController } from '../resilience/linked-abort-controller';
import { upstreamJsonRequest } from './upstream-json-request';
import {
  MAX_ERROR_BODY_BYTES,
  readJsonBody,
  upstreamRequest,
  type UpstreamRequestOptions,
} from './upstream-request';
import { upstreamStreamRequest } from './upstream-stream-request';

const upstream = useUpstreamTestServer({ headers: { accept: 'application/json' }, json: { hello: 'world' } });
const { closed, options } = upstream;

/** A successful JSON answer that keeps coming: 1 MiB in pieces, never ended. */
function endlessSuccessBody(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"data":"');
  for (let sent = 0; sent < 1024 * 1024; sent += 16 * 1024) res.write('x'.repeat(16 * 1024));
}

/** A failed answer whose body goes past the error-body bound, in pieces, and never ends. */
function overlongErrorBody(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'text/plain' });
  res.write('The service is melting down. ');
  for (let sent = 0; sent <= MAX_ERROR_BODY_BYTES; sent += 16 * 1024) res.write('x'.repeat(16 * 1024));
}

describe('upstreamJsonRequest', () => {
  it('sends the JSON body and gives the parsed body with its exact text, across split chunks and multi-byte characters', async () => {
    const text = '{ "id": "c1",\n  "content": "caf\u00e9 \ud83d\ude42" }\n';
    const bytes = Buffer.from(text);
    let sent = '';
    upstream.handle = (req, res) => {
      req.setEncoding('utf8');
      req.on('data', (piece: string) => (sent += piece));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-extra': 'yes' });
        // split inside the multi-byte characters
        res.write(bytes.subarray(0, bytes.indexOf(0xc3) + 1));
        res.write(bytes.subarray(bytes.indexOf(0xc3) + 1, bytes.indexOf(0xf0) + 2));
        res.end(bytes.subarray(bytes.indexOf(0xf0) + 2));
      });
    };
    const response = await upstreamJsonRequest<{ id: string; content: string }>(options('/ok'));
    expect(JSON.parse(sent)).toEqual({ hello: 'world' });
    expect(response.status).toBe(200);
    expect(response.headers['x-extra']).toBe('yes');
    // parsed on first read, then kept
    expect(response.headers).toBe(response.headers);
    expect(response.text).toBe(text);
    expect(response.body).toEqual({ id: 'c1', content: 'caf\u00e9 \ud83d\ude42' });
  });

  it('leaves out a leading byte-order mark, as undici body.text() does', async () => {
    upstream.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]));
    };
    const response = await upstreamJsonRequest(options('/bom'));
    expect(response.text).toBe('{"a":1}');
  });

  it('maps a body that is not JSON, or is cut after the headers, to upstream_error', async () => {
    upstream.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>');
    };
    expect(await rejection(upstreamJsonRequest(options('/html')))).toMatchObject({
      code: 'upstream_error',
      status: 502,
    });
    upstream.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"a":');
      setTimeout(() => res.destroy(), 10);
    };
    expect(await rejection(upstreamJsonRequest(options('/cut')))).toMatchObject({
      code: 'upstream_error',
      message: expect.stringContaining('unreadable JSON') as unknown,
    });
  });

  it("maps a failed answer by its status and the provider's message, also when its body is cut", async () => {
    upstream.handle = (_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
      res.end(JSON.stringify({ error: { message: 'slow down', code: 'rate_limit' } }));
    };
    expect(await rejection(upstreamJsonRequest(options('/limited')))).toMatchObject({
      code: 'upstream_rate_limited',
      retryAfterMs: 3000,
      message: expect.stringContaining('slow down') as unknown,
    });
    upstream.handle = (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"error":');
      setTimeout(() => res.destroy(), 10);
    };
    expect(await rejection(upstreamJsonRequest(options('/unavailable')))).toMatchObject({
      code: 'upstream_unavailable',
    });
  });

  it('masks the credentials the call sent (whatever their shape) when the error body quotes them, whole answer or stream', async () => {
    // an Azure key: 32 hex characters, no prefix redactSecrets would recognise
    const key = 'a3f9c2e8b7d14f6a9e0c5b2d8f7a1c43';
    upstream.handle = (req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      const quoted = `${String(req.headers['api-key'])} ${String(req.headers['authorization'])} ${new URL(req.url ?? '', 'http://h').searchParams.get('key')}`;
      res.end(JSON.stringify({ error: { message: `Invalid key(s) ${quoted} for this resource` } }));
    };
    const call = (path: string): UpstreamRequestOptions => {
      const base = options(path);
      return { ...base, headers: { ...base.headers, 'api-key': key, authorization: `Bearer ${key}x` } };
    };
    for (const error of [
      await rejection(upstreamJsonRequest(call(`/echo?alt=sse&key=${key}q`))),
      await rejection(upstreamRequest(call(`/echo?key=${key}q`))),
      await rejection(upstreamStreamRequest(call(`/echo?key=${key}q`))),
    ]) {
      expect(error).toMatchObject({ code: 'upstream_bad_request' });
      expect((error as Error).message).toContain('Invalid key(s) [redacted] [redacted] [redacted] for this');
      expect((error as Error).message).not.toContain(key);
    }
  });

  it("keeps the param and code of the provider's error body on the error and its wire body, whole answer or stream", async () => {
    upstream.handle = (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: {
            message: "Invalid 'messages[1].content': string too long.",
            type: 'invalid_request_error',
            param: 'messages[1].content',
            code: 'string_above_max_length',
          },
        }),
      );
    };
    for (const error of [
      await rejection(upstreamJsonRequest(options('/too-long'))),
      await rejection(upstreamRequest(options('/too-long'))),
      await rejection(upstreamStreamRequest(options('/too-long'))),
    ]) {
      expect(error.toJSON().error).toMatchObject({
        param: 'messages[1].content',
        code: 'upstream_bad_request',
        provider_code: 'string_above_max_length',
      });
    }
  });

  it('builds the error of a failed answer from its first 64 KiB, and cancels a body that goes on', async () => {
    upstream.handle = overlongErrorBody;
    const error = await rejection(upstreamJsonRequest(options('/json-overlong')));
    expect(error).toMatchObject({
      code: 'upstream_unavailable',
      upstreamStatus: 503,
      message: expect.stringContaining('melting down') as unknown,
    });
    await expect.poll(() => closed).toContain('/json-overlong');
  });

  it('fails a successful answer that goes past the bound with a 502 and stops reading it', async () => {
    upstream.handle = endlessSuccessBody;
    const error = await rejection(upstreamJsonRequest(options('/json-endless'), 256 * 1024));
    expect(error).toMatchObject({
      code: 'upstream_error',
      upstreamStatus: 502,
      message: expect.stringContaining('262144 bytes') as unknown,
    });
    await expect.poll(() => closed).toContain('/json-endless');
    // an answer within the bound is read as always
    upstream.handle = (_req, res) => res.end(JSON.stringify({ fits: 'x'.repeat(1000) }));
    expect(
      (await upstreamJsonRequest<{ fits: string }>(options('/json-fits'), 256 * 1024)).body.fits,
    ).toHaveLength(1000);
  });

  it('rejects with the reason of a cancellation that came first, without calling upstream', async () => {
    const controller = new AbortSourceController();
    const reason = new SwitchyardError('request_timeout', 'too late');
    controller.abort(reason);
    let called = false;
    upstream.handle = (_req, res) => {
      called = true;
      res.end('{}');
    };
    expect(await rejection(upstreamJsonRequest(options('/early', controller)))).toBe(reason);
    expect(called).toBe(false);
  });

  it('rejects with the reason of a cancellation mid-call and closes the upstream request', async () => {
    const controller = new AbortSourceController();
    const reason = new SwitchyardError('upstream_timeout', 'attempt timed out');
    upstream.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":');
      setTimeout(() => controller.abort(reason), 10);
    };
    expect(await rejection(upstreamJsonRequest(options('/hang', controller)))).toBe(reason);
    await expect.poll(() => closed).toContain('/hang');
  });

  it('maps a refused connection to upstream_connection_error', async () => {
    const refused = { ...options('/'), url: 'http://127.0.0.1:1/v1/chat/completions' };
    expect(await rejection(upstreamJsonRequest(refused))).toMatchObject({
      code: 'upstream_connection_error',
    });
  });

  it('reads an answer through a dispatcher composed with interceptors (which wrap the handler), retried after a 503', async () => {
    let calls = 0;
    upstream.handle = (_req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
        res.end('{"error":{"message":"busy"}}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-extra': ['a', 'b'] });
      res.end('{"id":"r1"}');
    };
    const composed = new Agent().compose(
      interceptors.retry({ maxRetries: 1, minTimeout: 0, methods: ['POST'] }),
    );
    const response = await upstreamJsonRequest({ ...options('/retried'), dispatcher: composed });
    expect(calls).toBe(2);
    expect(response).toMatchObject({ status: 200, text: '{"id":"r1"}', body: { id: 'r1' } });
    expect(response.headers['x-extra']).toEqual(['a', 'b']);
    await composed.close();
  });

  it('works with a dispatcher that calls the handler itself (a MockPool used directly) as with a MockAgent', async () => {
    const mock = new MockAgent();
    mock.disableNetConnect();
    const origin = 'http://mock.test';
    const pool = mock.get(origin);
    const text = '{"id":"m1"}';
    for (const dispatcher of [mock, pool] as Dispatcher[]) {
      pool
        .intercept({ path: '/ok', method: 'POST' })
        .reply(200, text, { headers: { 'content-type': 'application/json', 'x-trace': 'a' } });
      const response = await upstreamJsonRequest({ ...options('/ok'), url: `${origin}/ok`, dispatcher });
      expect(response).toMatchObject({ status: 200, text, body: { id: 'm1' } });
      expect(response.headers['x-trace']).toBe('a');
      pool
        .intercept({ path: '/limited', method: 'POST' })
        .reply(429, { error: { message: 'slow down' } }, { headers: { 'retry-after': '2' } });
      expect(
        await rejection(
          upstreamJsonRequest({ ...options('/limited'), url: `${origin}/limited`, dispatcher }),
        ),
      ).toMatchObject({
        code: 'upstream_rate_limited',
        retryAfterMs: 2000,
      });
    }
    await mock.close();
  });
});

describe('upstreamRequest', () => {
  it('builds the error of a failed answer from its first 64 KiB, and cancels a body that goes on', async () => {
    upstream.handle = overlongErrorBody;
    const error = await rejection(upstreamRequest(options('/request-overlong')));
    expect(error).toMatchObject({
      code: 'upstream_unavailable',
      upstreamStatus: 503,
      message: expect.stringContaining('melting down') as unknown,
    });
    await expect.poll(() => closed).toContain('/request-overlong');
  });

  it('reads a successful JSON body whole (readJsonBody) up to the bound, and fails one past it with a 502', async () => {
    upstream.handle = (_req, res) => res.end('\ufeff{"ok":true}');
    const answer = await upstreamRequest(options('/read-ok'));
    expect(await readJsonBody<{ ok: boolean }>(answer, 'test', new AbortController().signal)).toEqual({
      ok: true,
    });
    upstream.handle = endlessSuccessBody;
    const endless = await upstreamRequest(options('/read-endless'));
    const error = await rejection(readJsonBody(endless, 'test', new AbortController().signal, 256 * 1024));
    expect(error).toMatchObject({ code: 'upstream_error', upstreamStatus: 502 });
    await expect.poll(() => closed).toContain('/read-endless');
    upstream.handle = (_req, res) => res.end('not json');
    expect(
      await rejection(
        readJsonBody(await upstreamRequest(options('/read-bad')), 'test', new AbortController().signal),
      ),
    ).toMatchObject({ upstreamStatus: 502, message: expect.stringContaining('unreadable') as unknown });
  });
});
