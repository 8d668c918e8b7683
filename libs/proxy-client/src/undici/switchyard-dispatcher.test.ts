import {
  Agent,
  BalancedPool,
  Client,
  MockAgent,
  Pool,
  ProxyAgent,
  fetch as undiciFetch,
  getGlobalDispatcher,
  interceptors,
  request,
  setGlobalDispatcher,
  type Dispatcher,
} from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  closedPortUrl,
  startRecordingServer,
  useRecordingServers,
  type RecordingServer,
} from '../../test/recording-server';
import { section } from '../context/section';
import { withCustomer } from '../context/with-customer';
import { withRun } from '../context/with-run';
import { isSwitchyardClientError } from '../errors/switchyard-client-error';
import type { FailOpenEvent } from '../routing/gateway-routing-options';
import { switchyardDispatcher } from './switchyard-dispatcher';
import { switchyardInterceptor } from './switchyard-interceptor';

const { gateway, provider, other } = useRecordingServers('gateway', 'provider', 'other');
const dispatchers: Dispatcher[] = [];

// registered after the servers' hooks, so it runs before they close
afterAll(async () => {
  await Promise.all(dispatchers.map((d) => d.close()));
});

function track<T extends Dispatcher>(dispatcher: T): T {
  dispatchers.push(dispatcher);
  return dispatcher;
}

const switchyardHeaderNames = (headers: Record<string, unknown>): string[] =>
  Object.keys(headers).filter((name) => name.startsWith('x-switchyard'));

describe('switchyardDispatcher', () => {
  it('routes undici fetch calls for provider hosts through the proxy with the context headers', async () => {
    const dispatcher = track(
      switchyardDispatcher({
        gatewayUrl: `${gateway.url}/gw`,
        apiKey: 'sk-sy-test',
        providerHosts: [provider.host],
      }),
    );
    const result = await withCustomer('acme', () =>
      withRun(
        () =>
          section('agent:plan', (outer) =>
            section('tool:fetch', async (inner) => {
              const response = await undiciFetch(`${provider.url}/v1/messages?beta=true`, {
                method: 'POST',
                headers: { 'x-api-key': 'sk-ant-provider', 'content-type': 'application/json' },
                body: JSON.stringify({ model: 'claude' }),
                dispatcher,
              });
              return { body: await response.json(), outer: outer.spanId, inner: inner.spanId };
            }),
          ),
        { runId: 'run-d' },
      ),
    );
    expect(result.body).toEqual({ servedBy: 'gateway', path: '/gw/proxy/v1/messages?beta=true' });
    expect(provider.calls).toHaveLength(0);
    const call = gateway.calls[0];
    expect(call?.body).toBe('{"model":"claude"}');
    expect(call?.headers.host).toBe(gateway.host);
    expect(call?.headers).toMatchObject({
      'x-switchyard-target': provider.url,
      'x-switchyard-key': 'sk-sy-test',
      'x-api-key': 'sk-ant-provider',
      'x-switchyard-run-id': 'run-d',
      'x-switchyard-span-id': result.inner,
      'x-switchyard-parent-span-id': result.outer,
      'x-switchyard-section': 'tool:fetch',
      'x-switchyard-section-path': 'agent:plan/tool:fetch',
      'x-switchyard-customer-id': 'acme',
    });
  });

  it("covers global fetch (Node's bundled undici) once installed with setGlobalDispatcher", async () => {
    const previous = getGlobalDispatcher();
    setGlobalDispatcher(
      track(switchyardDispatcher({ gatewayUrl: gateway.url, providerHosts: [provider.host] })),
    );
    try {
      const routed = await withRun(
        () => globalThis.fetch(`${provider.url}/v1/embeddings`, { method: 'POST', body: 'abc' }),
        { runId: 'run-global' },
      );
      expect(await routed.json()).toEqual({ servedBy: 'gateway', path: '/proxy/v1/embeddings' });
      const untouched = await withRun(() => globalThis.fetch(`${other.url}/plain`));
      expect(await untouched.json()).toMatchObject({ servedBy: 'other' });
    } finally {
      setGlobalDispatcher(previous);
    }
    expect(gateway.calls[0]?.headers).toMatchObject({
      'x-switchyard-run-id': 'run-global',
      'x-switchyard-target': provider.url,
    });
    expect(gateway.calls[0]?.body).toBe('abc');
    expect(switchyardHeaderNames(other.calls[0]?.headers ?? {})).toEqual([]);
  });

  it("adds only the tracing headers to calls to the gateway's own routes", async () => {
    const dispatcher = track(
      switchyardDispatcher({ gatewayUrl: gateway.url, apiKey: 'sk-sy-test', providerHosts: [provider.host] }),
    );
    await withRun(
      () =>
        section('plan', () =>
          undiciFetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', body: '{}', dispatcher }),
        ),
      { runId: 'run-v1' },
    );
    expect(gateway.calls[0]).toMatchObject({ path: '/v1/chat/completions', body: '{}' });
    expect(gateway.calls[0]?.headers).toMatchObject({
      'x-switchyard-run-id': 'run-v1',
      'x-switchyard-section-path': 'plan',
    });
    expect(gateway.calls[0]?.headers['x-switchyard-target']).toBeUndefined();
    expect(gateway.calls[0]?.headers['x-switchyard-key']).toBeUndefined();
  });

  it("sends none of the caller's own x-switchyard-* headers to a host it does not route (a gateway key in an SDK's defaultHeaders reached every other host)", async () => {
    const dispatcher = track(
      switchyardDispatcher({ gatewayUrl: gateway.url, apiKey: 'sk-sy-real', providerHosts: [provider.host] }),
    );
    const viaFetch = await undiciFetch(`${other.url}/a`, {
      method: 'POST',
      body: 'payload',
      headers: { 'x-switchyard-key': 'sk-sy-secret', 'X-Switchyard-Run-Id': 'run-own', 'x-mine': '1' },
      dispatcher,
    });
    await viaFetch.text();
    const viaRequest = await request(`${other.url}/b`, {
      headers: ['X-Switchyard-Key', 'sk-sy-secret', 'x-mine', '2'],
      dispatcher,
    });
    await viaRequest.body.text();
    expect(other.calls.map((c) => [c.path, c.body, c.headers['x-mine']])).toEqual([
      ['/a', 'payload', '1'],
      ['/b', '', '2'],
    ]);
    for (const call of other.calls) expect(switchyardHeaderNames(call.headers)).toEqual([]);
  });

  it('keeps an explicit Host header on calls it only adds headers to or strips them from, and drops it only on a call it sends to the gateway (it was dropped whenever a run was open)', async () => {
    const dispatcher = track(
      switchyardDispatcher({ gatewayUrl: gateway.url, providerHosts: [provider.host] }),
    );
    const call = async (url: string, headers: Record<string, string>): Promise<void> => {
      await (await request(url, { dispatcher, headers })).body.text();
    };
    await withRun(async () => {
      // the gateway's own route, tracing headers added
      await call(`${gateway.url}/v1/models`, { host: 'switchyard.internal' });
      // a host it does not route, the caller's own x-switchyard-* header stripped
      await call(`${other.url}/plain`, { host: 'other.internal', 'x-switchyard-run-id': 'run-own' });
      // a provider call, re-targeted to the gateway: the Host named the provider
      await call(`${provider.url}/v1/x`, { host: 'api.provider.example' });
    });
    expect(gateway.calls.map((c) => [c.path, c.headers.host])).toEqual([
      ['/v1/models', 'switchyard.internal'],
      ['/proxy/v1/x', gateway.host],
    ]);
    expect(gateway.calls[0]?.headers['x-switchyard-run-id']).toBeDefined();
    expect(other.calls.map((c) => c.headers.host)).toEqual(['other.internal']);
    expect(switchyardHeaderNames(other.calls[0]?.headers ?? {})).toEqual([]);
  });

  it('routes undici.request with headers given as a flat array', async () => {
    const dispatcher = track(
      switchyardDispatcher({ gatewayUrl: gateway.url, providerHosts: [provider.host] }),
    );
    const { body } = await request(`${provider.url}/v1/models`, {
      dispatcher,
      headers: ['x-one', '1', 'x-two', '2'],
    });
    expect(await body.json()).toMatchObject({ servedBy: 'gateway', path: '/proxy/v1/models' });
    expect(gateway.calls[0]?.headers).toMatchObject({
      'x-one': '1',
      'x-two': '2',
      'x-switchyard-target': provider.url,
    });
  });

  it('reads a path that starts with // as a path of the origin called, not as another host (it went direct, unrouted, or to the host named in the path)', async () => {
    const dispatcher = track(
      switchyardDispatcher({ gatewayUrl: gateway.url, providerHosts: [provider.host] }),
    );
    // a base URL ending in / joined with a path starting with / (`https://api.openai.com/` + `/v1/...`)
    const routed = await withRun(() => undiciFetch(`${provider.url}//v1/chat/completions`, { dispatcher }), {
      runId: 'run-slashes',
    });
    expect(await routed.json()).toEqual({ servedBy: 'gateway', path: '/proxy//v1/chat/completions' });
    expect(gateway.calls[0]?.headers).toMatchObject({
      'x-switchyard-target': provider.url,
      'x-switchyard-run-id': 'run-slashes',
    });
    // a call to a host it does not route stays with that host, whatever its path names
    const untouched = await undiciFetch(`${other.url}//${provider.host}/v1/x`, {
      headers: { authorization: 'Bearer for-other' },
      dispatcher,
    });
    expect(await untouched.json()).toEqual({ servedBy: 'other', path: `//${provider.host}/v1/x` });
    expect(gateway.calls).toHaveLength(1);
    expect(provider.calls).toHaveLength(0);
  });

  it('replaces every target and key header the caller set, repeated or in another case (one of two was kept and joined to the real key)', async () => {
    const dispatcher = track(
      switchyardDispatcher({ gatewayUrl: gateway.url, apiKey: 'sk-sy-real', providerHosts: [provider.host] }),
    );
    const { body } = await withCustomer('from-context', () =>
      request(`${provider.url}/v1/x`, {
        dispatcher,
        headers: {
          'x-switchyard-key': ['forged-1', 'forged-2'],
          'X-Switchyard-Target': 'https://evil.example',
          'x-switchyard-target': 'https://evil.example',
          'x-switchyard-customer-id': 'explicit',
        },
      }),
    );
    await body.text();
    expect(gateway.calls[0]?.headers).toMatchObject({
      'x-switchyard-key': 'sk-sy-real',
      'x-switchyard-target': provider.url,
      'x-switchyard-customer-id': 'explicit',
    });
    // with no apiKey, a key the caller set itself (an SDK's defaultHeaders) is the one sent
    const keyless = track(switchyardDispatcher({ gatewayUrl: gateway.url, providerHosts: [provider.host] }));
    await (
      await request(`${provider.url}/v1/y`, {
        dispatcher: keyless,
        headers: { 'x-switchyard-key': 'sk-own' },
      })
    ).body.text();
    expect(gateway.calls[1]?.headers['x-switchyard-key']).toBe('sk-own');
  });

  it('composes onto an existing dispatcher as an interceptor', async () => {
    const dispatcher = track(new Agent()).compose(
      switchyardInterceptor({ gatewayUrl: gateway.url, providerHosts: [provider.host] }),
    );
    const response = await undiciFetch(`${provider.url}/v1/x`, { dispatcher });
    expect(await response.json()).toMatchObject({ servedBy: 'gateway' });
  });

  describe('a 3xx the gateway relays', () => {
    let redirecting: RecordingServer;
    // a gateway relaying the upstream's 302 as is: an absolute Location to another host, a
    // relative one (resolved against the provider), and the content at the end of both
    beforeAll(async () => {
      redirecting = await startRecordingServer('gateway', (call) => {
        if (call.path === '/proxy/v1/files/abs/content')
          return { status: 302, body: {}, headers: { location: `${other.url}/signed/abs` } };
        if (call.path === '/proxy/v1/files/rel/content')
          return { status: 302, body: {}, headers: { location: '/v1/files/rel/content-2' } };
        if (call.path === '/proxy/v1/runs/first')
          return { status: 307, body: {}, headers: { location: `${provider.url}/v1/runs/second` } };
        return undefined;
      });
    });
    afterAll(() => redirecting.close());
    afterEach(() => {
      redirecting.calls.length = 0;
    });

    it('reaches the caller when a redirect interceptor sits below the Switchyard one (it followed the 3xx with the rewritten call: the gateway key to Location, a relative one to the gateway)', async () => {
      const dispatcher = track(
        switchyardDispatcher({
          gatewayUrl: redirecting.url,
          apiKey: 'sk-sy-secret',
          providerHosts: [provider.host],
          dispatcher: new Agent().compose(interceptors.redirect({ maxRedirections: 3 })),
        }),
      );
      const absolute = await request(`${provider.url}/v1/files/abs/content`, {
        dispatcher,
        headers: { authorization: 'Bearer sk-provider' },
      });
      await absolute.body.text();
      expect([absolute.statusCode, absolute.headers.location]).toEqual([302, `${other.url}/signed/abs`]);
      const relative = await request(`${provider.url}/v1/files/rel/content`, { dispatcher });
      await relative.body.text();
      expect([relative.statusCode, relative.headers.location]).toEqual([302, '/v1/files/rel/content-2']);
      expect(other.calls).toHaveLength(0);
      expect(redirecting.calls.map((c) => c.path)).toEqual([
        '/proxy/v1/files/abs/content',
        '/proxy/v1/files/rel/content',
      ]);
    });

    it('is followed from the URL the caller asked for by a redirect interceptor composed above it, each hop routed anew', async () => {
      const dispatcher = track(
        switchyardDispatcher({
          gatewayUrl: redirecting.url,
          apiKey: 'sk-sy-secret',
          providerHosts: [provider.host],
        }),
      ).compose(interceptors.redirect({ maxRedirections: 3 }));
      const relative = await request(`${provider.url}/v1/files/rel/content`, { dispatcher });
      expect(relative.statusCode).toBe(200);
      expect(await relative.body.json()).toEqual({
        servedBy: 'gateway',
        path: '/proxy/v1/files/rel/content-2',
      });
      expect(redirecting.calls[1]?.headers).toMatchObject({
        'x-switchyard-target': provider.url,
        'x-switchyard-key': 'sk-sy-secret',
      });
      const absolute = await withRun(() =>
        request(`${provider.url}/v1/files/abs/content`, {
          dispatcher,
          headers: { authorization: 'Bearer sk-provider' },
        }),
      );
      expect(await absolute.body.json()).toEqual({ servedBy: 'other', path: '/signed/abs' });
      expect(other.calls).toHaveLength(1);
      expect(switchyardHeaderNames(other.calls[0]?.headers ?? {})).toEqual([]);
      expect(other.calls[0]?.headers.authorization).toBeUndefined();
      expect(provider.calls).toHaveLength(0);
    });

    it('charges each hop to the run and customer of the call that made it (a hop went out with those of the call that had opened the kept-alive connection)', async () => {
      const dispatcher = track(
        switchyardDispatcher({ gatewayUrl: redirecting.url, providerHosts: [provider.host] }),
      ).compose(interceptors.redirect({ maxRedirections: 3 }));
      const call = async (): Promise<void> => {
        const response = await request(`${provider.url}/v1/runs/first`, { dispatcher });
        await response.body.text();
      };
      await withCustomer('cust-A', () => withRun(call, { runId: 'run-A' }));
      await withCustomer('cust-B', () => withRun(call, { runId: 'run-B' }));
      expect(
        redirecting.calls.map((c) => [
          c.path,
          c.headers['x-switchyard-run-id'],
          c.headers['x-switchyard-customer-id'],
        ]),
      ).toEqual([
        ['/proxy/v1/runs/first', 'run-A', 'cust-A'],
        ['/proxy/v1/runs/second', 'run-A', 'cust-A'],
        ['/proxy/v1/runs/first', 'run-B', 'cust-B'],
        ['/proxy/v1/runs/second', 'run-B', 'cust-B'],
      ]);
    });
  });

  it('fails open with a fetch body: the call goes direct with its body, and the warning is emitted once', async () => {
    const events: FailOpenEvent[] = [];
    const warnings: object[] = [];
    const dispatcher = track(
      switchyardDispatcher({
        gatewayUrl: await closedPortUrl(),
        providerHosts: [provider.host],
        onFailOpen: (event) => events.push(event),
        logger: { debug: () => undefined, info: () => undefined, warn: (fields) => warnings.push(fields) },
      }),
    );
    const first = await withRun(() =>
      undiciFetch(`${provider.url}/v1/chat/completions`, {
        method: 'POST',
        body: '{"a":1}',
        // the caller's own gateway headers (a key in an SDK's defaultHeaders) are not sent direct
        headers: { 'x-switchyard-key': 'sk-sy-secret', 'x-switchyard-run-id': 'run-own' },
        dispatcher,
      }),
    );
    expect(await first.json()).toMatchObject({ servedBy: 'provider', path: '/v1/chat/completions' });
    const second = await undiciFetch(`${provider.url}/v1/again`, {
      method: 'POST',
      body: new Blob(['blob body']),
      headers: { 'X-Switchyard-Key': 'sk-sy-secret' },
      dispatcher,
    });
    expect(await second.json()).toMatchObject({ servedBy: 'provider' });
    expect(provider.calls.map((c) => c.body)).toEqual(['{"a":1}', 'blob body']);
    expect(switchyardHeaderNames(provider.calls[0]?.headers ?? {})).toEqual([]);
    expect(switchyardHeaderNames(provider.calls[1]?.headers ?? {})).toEqual([]);
    expect(events.map((e) => e.errorCode)).toEqual(['ECONNREFUSED']);
    expect(warnings).toHaveLength(1);
  });

  it('goes direct, and returns the answer once the gateway is back, whatever the logger or onFailOpen does (a throw crashed the app)', async () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const deadGateway = await closedPortUrl();
      let gatewayOrigin = deadGateway;
      // lets the test bring the "gateway" back on another port
      const connections = track(new Agent()).compose(
        (dispatch) => (opts, handler) =>
          dispatch({ ...opts, origin: opts.origin === deadGateway ? gatewayOrigin : opts.origin }, handler),
      );
      const fail = (what: string) => () => {
        throw new Error(`${what} boom`);
      };
      const dispatcher = switchyardDispatcher({
        gatewayUrl: deadGateway,
        providerHosts: [provider.host],
        retryGatewayAfterMs: 0,
        dispatcher: connections,
        logger: { debug: fail('debug'), info: fail('info'), warn: fail('warn') },
        onFailOpen: fail('onFailOpen'),
      });
      const direct = await undiciFetch(`${provider.url}/v1/x`, { method: 'POST', body: 'x', dispatcher });
      expect(await direct.json()).toMatchObject({ servedBy: 'provider' });

      gatewayOrigin = gateway.url;
      const answered = await undiciFetch(`${provider.url}/v1/x`, { method: 'POST', body: 'x', dispatcher });
      expect(await answered.json()).toMatchObject({ servedBy: 'gateway' });
      expect(gateway.calls).toHaveLength(1);
      expect(provider.calls).toHaveLength(1);
      const warnings = emitWarning.mock.calls.map(([warning]) => warning as Error & { code?: string });
      expect(warnings.map((w) => [w.code, (w.cause as Error).message])).toEqual([
        ['SWITCHYARD_CALLBACK_THREW', 'warn boom'],
        ['SWITCHYARD_CALLBACK_THREW', 'onFailOpen boom'],
        ['SWITCHYARD_CALLBACK_THREW', 'info boom'],
      ]);
    } finally {
      emitWarning.mockRestore();
    }
  });

  it('fails open with every body undici.request takes that can be sent twice: ArrayBuffer, typed arrays, DataView, Blob, sync iterables (they failed instead of going direct)', async () => {
    const dispatcher = track(
      switchyardDispatcher({
        gatewayUrl: await closedPortUrl(),
        providerHosts: [provider.host],
        retryGatewayAfterMs: 0,
      }),
    );
    const bytes = new TextEncoder().encode('abcd');
    function* chunks(): Generator<Buffer> {
      yield Buffer.from('gen');
      yield Buffer.from('erator');
    }
    const bodies: Array<[string, unknown]> = [
      ['ArrayBuffer', bytes.buffer],
      ['Uint16Array', new Uint16Array(bytes.buffer)],
      ['DataView', new DataView(bytes.buffer, 1, 2)],
      ['Blob', new Blob(['blob'])],
      ['array of chunks', [Buffer.from('arr'), 'ay']],
      ['generator', chunks()],
    ];
    for (const [, body] of bodies) {
      const response = await request(`${provider.url}/v1/x`, {
        method: 'POST',
        body: body as string,
        dispatcher,
      });
      await response.body.text();
    }
    expect(provider.calls.map((c) => c.body)).toEqual(['abcd', 'abcd', 'bc', 'blob', 'array', 'generator']);
    expect(gateway.calls).toHaveLength(0);
  });

  it('fails closed when asked: the error is an upstream_connection_error', async () => {
    const dispatcher = track(
      switchyardDispatcher({
        gatewayUrl: await closedPortUrl(),
        providerHosts: [provider.host],
        failMode: 'closed',
      }),
    );
    const error: unknown = await undiciFetch(`${provider.url}/v1/x`, { dispatcher }).catch((e: unknown) => e);
    const cause = (error as { cause?: unknown }).cause;
    expect(isSwitchyardClientError(cause) && cause.code).toBe('upstream_connection_error');
    expect(provider.calls).toHaveLength(0);
  });

  it('leaves a WebSocket handshake or a CONNECT tunnel to a provider host as it is (the gateway cannot forward them: OpenAI Realtime broke)', () => {
    const seen: Dispatcher.DispatchOptions[] = [];
    const dispatch = switchyardInterceptor({ gatewayUrl: gateway.url, providerHosts: [provider.host] })((
      opts,
    ) => {
      seen.push(opts);
      return true;
    });
    const handler = {} as Dispatcher.DispatchHandler;
    const upgrade: Dispatcher.DispatchOptions = {
      origin: provider.url,
      path: '/v1/realtime?model=gpt-4o-realtime-preview',
      method: 'GET',
      upgrade: 'websocket',
    };
    const connect: Dispatcher.DispatchOptions = { origin: provider.url, path: '/', method: 'CONNECT' };
    const plain: Dispatcher.DispatchOptions = { origin: provider.url, path: '/v1/models', method: 'GET' };
    for (const opts of [upgrade, connect, plain]) dispatch(opts, handler);
    expect(seen[0]).toBe(upgrade);
    expect(seen[1]).toBe(connect);
    // a plain call to the same host is still sent to the gateway
    expect(seen[2]?.origin).toBe(gateway.url);
  });

  it('refuses options that are not an object with invalid_options, as the other entry points do', () => {
    for (const options of [null, undefined, 'http://localhost:4000']) {
      let thrown: unknown;
      try {
        switchyardDispatcher(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: 'invalid_options' });
      expect((thrown as Error).message).toContain('/: Expected object');
    }
  });

  it('refuses a single-origin Client, Pool or BalancedPool as its dispatcher (the gateway-bound call went to the provider with the gateway key)', async () => {
    const single = [
      new Client(provider.url),
      new Pool(provider.url),
      new BalancedPool([provider.url]),
      new MockAgent().get(provider.url),
    ];
    // a copy of undici other than this package's: the same class names, other classes
    class Pool2 {
      compose(): never {
        throw new Error('not called');
      }
    }
    Object.defineProperty(Pool2, 'name', { value: 'Pool' });
    try {
      for (const dispatcher of [...single, new Pool2() as unknown as Dispatcher]) {
        let thrown: unknown;
        try {
          switchyardDispatcher({ gatewayUrl: gateway.url, apiKey: 'sk-sy-secret', dispatcher });
        } catch (error) {
          thrown = error;
        }
        expect(isSwitchyardClientError(thrown) && thrown.code).toBe('invalid_options');
        expect((thrown as Error).message).toContain('/dispatcher: an undici ');
      }
    } finally {
      await Promise.all(single.map((d) => d.close()));
    }
    // dispatchers that route by origin are taken
    for (const dispatcher of [
      track(new Agent()),
      track(new ProxyAgent(other.url)),
      track(new Agent()).compose(),
    ])
      expect(() => switchyardDispatcher({ gatewayUrl: gateway.url, dispatcher })).not.toThrow();
  });

  it('rejects a dispatcher option that is not a dispatcher', () => {
    expect(() => switchyardDispatcher({ gatewayUrl: gateway.url, dispatcher: {} as Dispatcher })).toThrow(
      /dispatcher/,
    );
  });
});
