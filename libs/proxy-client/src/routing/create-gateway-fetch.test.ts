import { Agent, fetch as undiciFetch } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closedPortUrl, startRecordingServer, useRecordingServers } from '../../test/recording-server';
import { section } from '../context/section';
import { withCustomer } from '../context/with-customer';
import { withRun } from '../context/with-run';
import { isSwitchyardClientError } from '../errors/switchyard-client-error';
import type { ClientLogger } from '../options/client-logger';
import { createGatewayFetch } from './create-gateway-fetch';
import type { FailOpenEvent } from './gateway-routing-options';

const { gateway, provider, other } = useRecordingServers('gateway', 'provider', 'other');

afterEach(() => {
  vi.useRealTimers();
});

function recordingLogger(): ClientLogger & { warnings: object[]; infos: object[] } {
  const warnings: object[] = [];
  const infos: object[] = [];
  return {
    warnings,
    infos,
    debug: () => undefined,
    info: (fields) => infos.push(fields),
    warn: (fields) => warnings.push(fields),
  };
}

describe('createGatewayFetch', () => {
  it('sends a provider call to the universal proxy with target, key and the context headers', async () => {
    const fetch = createGatewayFetch({
      gatewayUrl: `${gateway.url}/base/`,
      apiKey: 'sk-sy-test',
      providerHosts: [provider.host],
    });
    const { response, spans } = await withCustomer('acme', () =>
      withRun(
        () =>
          section('agent:research', (outer) =>
            section('tool:search', async (inner) => ({
              response: await fetch(`${provider.url}/v1/chat/completions?stream=false`, {
                method: 'POST',
                headers: { authorization: 'Bearer sk-provider', 'content-type': 'application/json' },
                body: JSON.stringify({ model: 'gpt-4o-mini' }),
              }),
              spans: [outer.spanId, inner.spanId],
            })),
          ),
        { runId: 'run-1' },
      ),
    );
    expect(await response.json()).toEqual({
      servedBy: 'gateway',
      path: '/base/proxy/v1/chat/completions?stream=false',
    });
    expect(provider.calls).toHaveLength(0);
    const [call] = gateway.calls;
    expect(call?.method).toBe('POST');
    expect(call?.body).toBe('{"model":"gpt-4o-mini"}');
    expect(call?.headers).toMatchObject({
      'x-switchyard-target': provider.url,
      'x-switchyard-key': 'sk-sy-test',
      authorization: 'Bearer sk-provider',
      'content-type': 'application/json',
      'x-switchyard-run-id': 'run-1',
      'x-switchyard-span-id': spans[1],
      'x-switchyard-parent-span-id': spans[0],
      'x-switchyard-section': 'tool:search',
      'x-switchyard-section-path': 'agent:research/tool:search',
      'x-switchyard-customer-id': 'acme',
    });
  });

  it('leaves calls to other hosts alone, with no header added', async () => {
    const fetch = createGatewayFetch({
      gatewayUrl: gateway.url,
      apiKey: 'sk-sy-test',
      providerHosts: [provider.host],
    });
    const response = await withRun(() => fetch(`${other.url}/status`, { headers: { 'x-mine': '1' } }));
    expect(await response.json()).toMatchObject({ servedBy: 'other' });
    expect(gateway.calls).toHaveLength(0);
    const headers = other.calls[0]?.headers ?? {};
    expect(headers['x-mine']).toBe('1');
    expect(Object.keys(headers).filter((name) => name.startsWith('x-switchyard'))).toEqual([]);
  });

  it("sends none of the caller's own x-switchyard-* headers to a host it does not route (a gateway key in an SDK's defaultHeaders reached every other host)", async () => {
    const fetch = createGatewayFetch({ gatewayUrl: gateway.url, providerHosts: [provider.host] });
    const own = { 'x-switchyard-key': 'sk-sy-secret', 'X-Switchyard-Run-Id': 'run-own', 'x-mine': '1' };
    await fetch(`${other.url}/a`, { method: 'POST', body: 'payload', headers: own });
    await fetch(new Request(`${other.url}/b`, { method: 'POST', body: 'from a Request', headers: own }));
    expect(other.calls.map((c) => [c.path, c.body, c.headers['x-mine']])).toEqual([
      ['/a', 'payload', '1'],
      ['/b', 'from a Request', '1'],
    ]);
    for (const call of other.calls)
      expect(Object.keys(call.headers).filter((name) => name.startsWith('x-switchyard'))).toEqual([]);
  });

  it('routes every host but the gateway with routeAllHosts, and accepts a Request as input', async () => {
    const fetch = createGatewayFetch({ gatewayUrl: gateway.url, routeAllHosts: true });
    await fetch(new Request(`${other.url}/a`, { method: 'PUT', body: 'payload' }));
    await fetch(`${gateway.url}/health`);
    expect(gateway.calls.map((c) => [c.method, c.path, c.body])).toEqual([
      ['PUT', '/proxy/a', 'payload'],
      ['GET', '/health', ''],
    ]);
    expect(gateway.calls[0]?.headers['x-switchyard-key']).toBeUndefined();
    expect(gateway.calls[1]?.headers['x-switchyard-target']).toBeUndefined();
  });

  it("adds only the tracing headers to calls to the gateway's own routes (an SDK with baseURL = gateway /v1)", async () => {
    const fetch = createGatewayFetch({
      gatewayUrl: gateway.url,
      apiKey: 'sk-sy-test',
      providerHosts: [provider.host],
    });
    await withCustomer('acme', () =>
      withRun(
        () =>
          section('plan', () =>
            fetch(`${gateway.url}/v1/chat/completions`, {
              method: 'POST',
              headers: { authorization: 'Bearer sk-sy-own' },
              body: '{}',
            }),
          ),
        {
          runId: 'run-v1',
        },
      ),
    );
    await fetch(`${gateway.url}/v1/models`);
    const [routed, plain] = gateway.calls;
    expect(routed).toMatchObject({ path: '/v1/chat/completions', body: '{}' });
    expect(routed?.headers).toMatchObject({
      authorization: 'Bearer sk-sy-own',
      'x-switchyard-run-id': 'run-v1',
      'x-switchyard-section-path': 'plan',
      'x-switchyard-customer-id': 'acme',
    });
    expect(routed?.headers['x-switchyard-target']).toBeUndefined();
    expect(routed?.headers['x-switchyard-key']).toBeUndefined();
    expect(Object.keys(plain?.headers ?? {}).filter((name) => name.startsWith('x-switchyard'))).toEqual([]);
  });

  it('lets tracing headers set by the caller win, but never a forged target or key', async () => {
    const fetch = createGatewayFetch({
      gatewayUrl: gateway.url,
      apiKey: 'sk-sy-real',
      providerHosts: [provider.host],
    });
    await withCustomer('from-context', () =>
      fetch(`${provider.url}/v1/x`, {
        headers: {
          'x-switchyard-customer-id': 'explicit',
          'x-switchyard-target': 'https://evil.example',
          'x-switchyard-key': 'forged',
        },
      }),
    );
    expect(gateway.calls[0]?.headers).toMatchObject({
      'x-switchyard-customer-id': 'explicit',
      'x-switchyard-target': provider.url,
      'x-switchyard-key': 'sk-sy-real',
    });
  });

  it('sends no context headers with propagateContext: false', async () => {
    const fetch = createGatewayFetch({
      gatewayUrl: gateway.url,
      providerHosts: [provider.host],
      propagateContext: false,
    });
    await withRun(() => section('s', () => fetch(`${provider.url}/v1/x`)));
    expect(gateway.calls[0]?.headers['x-switchyard-run-id']).toBeUndefined();
    expect(gateway.calls[0]?.headers['x-switchyard-target']).toBe(provider.url);
  });

  it('fails open: an unreachable gateway sends the call direct, warns once per outage, and retries the gateway after the cool-down', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const logger = recordingLogger();
    const events: FailOpenEvent[] = [];
    const deadGateway = await closedPortUrl();
    let gatewayUrl = deadGateway;
    const fetch = createGatewayFetch({
      gatewayUrl: deadGateway,
      providerHosts: [provider.host],
      logger,
      onFailOpen: (event) => events.push(event),
      retryGatewayAfterMs: 10_000,
      // lets the test bring the "gateway" back on another port
      fetch: (input, init) =>
        globalThis.fetch(
          (input instanceof Request ? input.url : input.toString()).replace(deadGateway, gatewayUrl),
          init,
        ),
    });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"streamed":'));
        controller.enqueue(new TextEncoder().encode('true}'));
        controller.close();
      },
    });
    const first = await withRun(() =>
      fetch(`${provider.url}/v1/chat/completions`, {
        method: 'POST',
        body,
        duplex: 'half',
        // the caller's own: a gateway key in an SDK's defaultHeaders, a run id
        headers: { 'x-switchyard-key': 'sk-sy-secret', 'X-Switchyard-Run-Id': 'run-own' },
      }),
    );
    expect(await first.json()).toMatchObject({ servedBy: 'provider', path: '/v1/chat/completions' });
    expect(provider.calls[0]?.body).toBe('{"streamed":true}');
    // never leak the tracing or gateway headers to the provider
    expect(
      Object.keys(provider.calls[0]?.headers ?? {}).filter((name) => name.startsWith('x-switchyard')),
    ).toEqual([]);

    await fetch(`${provider.url}/v1/second`, { headers: { 'x-switchyard-key': 'sk-sy-secret' } });
    expect(provider.calls).toHaveLength(2);
    expect(
      Object.keys(provider.calls[1]?.headers ?? {}).filter((name) => name.startsWith('x-switchyard')),
    ).toEqual([]);
    expect(events).toEqual([
      {
        gatewayUrl: deadGateway,
        target: provider.url,
        errorCode: 'ECONNREFUSED',
        retryGatewayAfterMs: 10_000,
      },
    ]);
    expect(logger.warnings).toHaveLength(1);

    gatewayUrl = gateway.url;
    await fetch(`${provider.url}/v1/third`);
    expect(gateway.calls).toHaveLength(0);
    vi.advanceTimersByTime(10_000);
    const back = await fetch(`${provider.url}/v1/fourth`);
    expect(await back.json()).toMatchObject({ servedBy: 'gateway', path: '/proxy/v1/fourth' });
    expect(logger.infos).toHaveLength(1);
    expect(provider.calls).toHaveLength(3);
  });

  it("returns the call whatever the logger or onFailOpen does: a throw is a process warning, never the call's error (an answered call rejected, and an SDK sent it again)", async () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const deadGateway = await closedPortUrl();
      let gatewayUrl = deadGateway;
      const fail = (what: string) => () => {
        throw new Error(`${what} boom`);
      };
      const fetch = createGatewayFetch({
        gatewayUrl: deadGateway,
        providerHosts: [provider.host],
        retryGatewayAfterMs: 0,
        logger: { debug: fail('debug'), info: fail('info'), warn: fail('warn') },
        // an async callback: its rejection would be an unhandled rejection, which ends the process
        // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the case under test
        onFailOpen: () => Promise.reject(new Error('onFailOpen boom')),
        fetch: (input, init) =>
          globalThis.fetch(
            (input instanceof Request ? input.url : input.toString()).replace(deadGateway, gatewayUrl),
            init,
          ),
      });
      const direct = await fetch(`${provider.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
      expect(await direct.json()).toMatchObject({ servedBy: 'provider' });

      gatewayUrl = gateway.url;
      const answered = await fetch(`${provider.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
      expect(await answered.json()).toMatchObject({ servedBy: 'gateway' });
      expect(gateway.calls).toHaveLength(1);
      expect(provider.calls).toHaveLength(1);
      const warnings = emitWarning.mock.calls.map(([warning]) => warning as Error & { code?: string });
      expect(warnings.map((w) => [w.name, w.code, (w.cause as Error).message])).toEqual([
        ['SwitchyardClientWarning', 'SWITCHYARD_CALLBACK_THREW', 'warn boom'],
        ['SwitchyardClientWarning', 'SWITCHYARD_CALLBACK_THREW', 'onFailOpen boom'],
        ['SwitchyardClientWarning', 'SWITCHYARD_CALLBACK_THREW', 'info boom'],
      ]);
    } finally {
      emitWarning.mockRestore();
    }
  });

  it('honours an abort while it reads a streamed body, as fetch does (a stalled upload hung past its signal)', async () => {
    const fetch = createGatewayFetch({ gatewayUrl: gateway.url, providerHosts: [provider.host] });
    const controller = new AbortController();
    const reason = new Error('the caller gave up');
    let cancelledWith: unknown;
    let pulls = 0;
    // one chunk, then the upload stalls and the caller aborts while the body is being read
    const body = new ReadableStream<Uint8Array>({
      pull(stream) {
        pulls += 1;
        if (pulls === 1) stream.enqueue(new TextEncoder().encode('{"partial":'));
        else controller.abort(reason);
      },
      cancel(why) {
        cancelledWith = why;
      },
    });
    const call = fetch(`${provider.url}/v1/chat/completions`, {
      method: 'POST',
      body,
      duplex: 'half',
      signal: controller.signal,
    });
    await expect(call).rejects.toBe(reason);
    expect(cancelledWith).toBe(reason);
    // aborted before the call: it rejects at once, without waiting for a body that never ends
    const never = new ReadableStream<Uint8Array>({ pull: () => new Promise<void>(() => undefined) });
    await expect(
      fetch(`${provider.url}/v1/x`, {
        method: 'POST',
        body: never,
        duplex: 'half',
        signal: AbortSignal.abort(reason),
      }),
    ).rejects.toBe(reason);
    expect(gateway.calls).toHaveLength(0);
    expect(provider.calls).toHaveLength(0);
  });

  it('cancels a streamed body when the signal was aborted before the call, as fetch does (its source stayed open)', async () => {
    const fetch = createGatewayFetch({ gatewayUrl: gateway.url, providerHosts: [provider.host] });
    const reason = new Error('aborted before the call');
    let cancelledWith: unknown;
    const body = new ReadableStream<Uint8Array>({
      pull: () => new Promise<void>(() => undefined),
      cancel(why) {
        cancelledWith = why;
      },
    });
    await expect(
      fetch(`${provider.url}/v1/files`, {
        method: 'POST',
        body,
        duplex: 'half',
        signal: AbortSignal.abort(reason),
      }),
    ).rejects.toBe(reason);
    expect(cancelledWith).toBe(reason);
    expect(gateway.calls).toHaveLength(0);
    expect(provider.calls).toHaveLength(0);
  });

  it('fails closed when asked: an unreachable gateway is an upstream_connection_error and nothing goes direct', async () => {
    const fetch = createGatewayFetch({
      gatewayUrl: await closedPortUrl(),
      providerHosts: [provider.host],
      failMode: 'closed',
    });
    const error: unknown = await fetch(`${provider.url}/v1/x`).catch((e: unknown) => e);
    expect(isSwitchyardClientError(error) && error.code).toBe('upstream_connection_error');
    expect(provider.calls).toHaveLength(0);
  });

  it('passes gateway HTTP errors through as responses, without failing open', async () => {
    const failing = await startRecordingServer('failing', () => ({
      status: 503,
      body: { error: { message: 'no' } },
    }));
    try {
      const fetch = createGatewayFetch({ gatewayUrl: failing.url, providerHosts: [provider.host] });
      const response = await fetch(`${provider.url}/v1/x`);
      expect(response.status).toBe(503);
      expect(provider.calls).toHaveLength(0);
    } finally {
      await failing.close();
    }
  });

  it('hands a redirect the gateway relays back to the caller, never sending the keys to Location', async () => {
    const redirecting = await startRecordingServer('redirecting', () => ({
      status: 307,
      body: {},
      headers: { location: `${other.url}/steal` },
    }));
    try {
      const fetch = createGatewayFetch({
        gatewayUrl: redirecting.url,
        apiKey: 'sk-sy-secret',
        providerHosts: [provider.host],
      });
      const response = await fetch(`${provider.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': 'sk-provider-secret' },
        body: '{}',
      });
      expect(response.status).toBe(307);
      expect(response.headers.get('location')).toBe(`${other.url}/steal`);
      expect(redirecting.calls).toHaveLength(1);
      expect(other.calls).toHaveLength(0);
      expect(provider.calls).toHaveLength(0);
    } finally {
      await redirecting.close();
    }
  });

  it("sends a Request with a body to hosts it does not route, and to the gateway's own routes", async () => {
    const fetch = createGatewayFetch({ gatewayUrl: gateway.url, providerHosts: [provider.host] });
    const passed = await fetch(new Request(`${other.url}/hook`, { method: 'POST', body: 'payload' }));
    expect(await passed.json()).toMatchObject({ servedBy: 'other' });
    const own = await fetch(
      new Request(`${gateway.url}/v1/chat/completions`, { method: 'POST', body: '{}' }),
    );
    expect(await own.json()).toMatchObject({ servedBy: 'gateway' });
    const traced = await withRun(
      () => fetch(new Request(`${gateway.url}/v1/embeddings`, { method: 'POST', body: '[]' })),
      {
        runId: 'run-req',
      },
    );
    expect(traced.status).toBe(200);
    // with the global fetch, a Request's body and a form keep their length (a presigned upload needs one)
    const form = new FormData();
    form.set('purpose', 'batch');
    const formed = await fetch(`${other.url}/form`, { method: 'POST', body: form });
    expect(formed.status).toBe(200);
    await formed.text();
    expect(other.calls.map((c) => [c.method, c.path])).toEqual([
      ['POST', '/hook'],
      ['POST', '/form'],
    ]);
    expect(other.calls[0]?.body).toBe('payload');
    expect(other.calls[0]?.headers['content-length']).toBe('7');
    expect(other.calls[1]?.headers['content-length']).toBe(
      String(Buffer.byteLength(other.calls[1]?.body ?? '')),
    );
    expect(other.calls[1]?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(gateway.calls.map((c) => [c.path, c.body, c.headers['x-switchyard-run-id']])).toEqual([
      ['/v1/chat/completions', '{}', undefined],
      ['/v1/embeddings', '[]', 'run-req'],
    ]);
    expect(gateway.calls[0]?.headers['content-length']).toBe('2');
  });

  it("sends every call with a fetch of another realm, such as undici's own, as a URL and an init (it was given this realm's Request, which undici's fetch refuses)", async () => {
    const redirecting = await startRecordingServer('redirecting', () => ({
      status: 302,
      body: {},
      headers: { location: `${other.url}/moved` },
    }));
    const dispatched: string[] = [];
    const agent = new Agent();
    // an extra init field (an undici dispatcher from an SDK's fetchOptions) still reaches the fetch
    // (the package's Dispatcher type and the one Node's RequestInit names are distinct copies)
    const withDispatcher = {
      dispatcher: agent.compose((dispatch) => (opts, handler) => {
        dispatched.push(opts.path);
        return dispatch(opts, handler);
      }),
    } as unknown as RequestInit;
    try {
      const fetch = createGatewayFetch({
        gatewayUrl: gateway.url,
        providerHosts: [provider.host],
        fetch: undiciFetch as unknown as typeof globalThis.fetch,
      });
      const stream = (text: string): ReadableStream<Uint8Array> =>
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(text));
            controller.close();
          },
        });
      // hosts it does not route: a Request with a body, a streamed body, the caller's own gateway header
      const passed = await fetch(
        new Request(`${other.url}/hook`, {
          method: 'PUT',
          body: 'payload',
          headers: { 'x-mine': '1', 'x-switchyard-key': 'sk-sy-secret' },
        }),
      );
      expect(await passed.json()).toMatchObject({ servedBy: 'other' });
      const streamed = await fetch(`${other.url}/upload`, {
        method: 'POST',
        body: stream('streamed'),
        duplex: 'half',
        ...withDispatcher,
      });
      expect(streamed.status).toBe(200);
      await streamed.text();
      // a body given as it can be sent again goes as it is, with its length
      const blob = await fetch(`${other.url}/blob`, { method: 'POST', body: new Blob(['blob body']) });
      expect(blob.status).toBe(200);
      await blob.text();
      // the request's redirect mode and signal are kept
      const manual = await fetch(`${redirecting.url}/file`, { redirect: 'manual' });
      expect([manual.status, manual.headers.get('location')]).toEqual([302, `${other.url}/moved`]);
      await expect(fetch(`${other.url}/aborted`, { signal: AbortSignal.abort() })).rejects.toMatchObject({
        name: 'AbortError',
      });
      // the gateway's own routes, with and without tracing headers to add
      const own = await fetch(
        new Request(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          body: stream('{}'),
          duplex: 'half',
        }),
      );
      expect(own.status).toBe(200);
      await own.text();
      const traced = await withRun(
        () => fetch(`${gateway.url}/v1/embeddings`, { method: 'POST', body: '[]', ...withDispatcher }),
        { runId: 'run-foreign' },
      );
      expect(traced.status).toBe(200);
      await traced.text();
      const routed = await fetch(`${provider.url}/v1/x`, { method: 'POST', body: 'routed' });
      expect(await routed.json()).toEqual({ servedBy: 'gateway', path: '/proxy/v1/x' });

      expect(other.calls.map((c) => [c.method, c.path, c.body, c.headers['x-mine']])).toEqual([
        ['PUT', '/hook', 'payload', '1'],
        ['POST', '/upload', 'streamed', undefined],
        ['POST', '/blob', 'blob body', undefined],
      ]);
      expect(other.calls[2]?.headers['content-length']).toBe('9');
      expect(other.calls[0]?.headers['x-switchyard-key']).toBeUndefined();
      expect(redirecting.calls).toHaveLength(1);
      expect(gateway.calls.map((c) => [c.path, c.body, c.headers['x-switchyard-run-id']])).toEqual([
        ['/v1/chat/completions', '{}', undefined],
        ['/v1/embeddings', '[]', 'run-foreign'],
        ['/proxy/v1/x', 'routed', undefined],
      ]);
      expect(dispatched).toEqual(['/upload', '/v1/embeddings']);
    } finally {
      await redirecting.close();
      await agent.close();
    }
  });

  it('reports every invalid option at once', () => {
    let message = '';
    try {
      createGatewayFetch({
        gatewayUrl: 'ftp://x',
        failMode: 'sideways',
        retryGatewayAfterMs: -1,
        bogus: true,
      } as never);
    } catch (error) {
      expect(isSwitchyardClientError(error) && error.code).toBe('invalid_options');
      message = (error as Error).message;
    }
    expect(message).toContain('/gatewayUrl');
    expect(message).toContain('/failMode');
    expect(message).toContain('/retryGatewayAfterMs');
    expect(message).toContain('/bogus: unknown option');
  });

  it('refuses a logger without info or debug (it passed, then threw inside a call the gateway had answered)', () => {
    for (const logger of [{ warn: () => undefined }, { warn: () => undefined, info: () => undefined }])
      expect(() => createGatewayFetch({ gatewayUrl: 'http://127.0.0.1:1', logger } as never)).toThrow(
        '/logger: must have warn, info and debug methods',
      );
  });
});
