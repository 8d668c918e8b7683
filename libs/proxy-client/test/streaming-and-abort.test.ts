import { EventEmitter, once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayFetch, type FetchFunction } from '../src/index';
import { closedPortUrl } from './recording-server';
import { switchyardDispatcher } from '../src/undici';

// A gateway stand-in that streams: it sends the first SSE event, then waits for the test to
// release the rest, so a client that sees the first event before the release proves the
// response is passed through incrementally, not buffered.
let server: Server;
let gatewayUrl: string;
const events = new EventEmitter();
let pending: ServerResponse | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"n":1}\n\n');
    pending = res;
    res.on('close', () => events.emit('closed', res.writableFinished));
    events.emit('request', req.url);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function release(): void {
  pending?.end('data: {"n":2}\n\ndata: [DONE]\n\n');
}

const clients: Array<[string, () => FetchFunction]> = [
  ['createGatewayFetch', () => createGatewayFetch({ gatewayUrl, providerHosts: ['api.openai.com'] })],
  [
    'switchyardDispatcher',
    () => {
      const routed = switchyardDispatcher({ gatewayUrl, providerHosts: ['api.openai.com'] });
      // the tests pass URL strings; undici's Response satisfies what they read
      return (input, init) =>
        undiciFetch(input instanceof Request ? input.url : input, {
          ...(init as object),
          dispatcher: routed,
        });
    },
  ],
];

describe.each(clients)('%s', (_name, makeFetch) => {
  it('passes a streamed response through event by event', async () => {
    const fetch = makeFetch();
    const response = await fetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      body: '{"stream":true}',
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    expect(decoder.decode(first.value as Uint8Array)).toBe('data: {"n":1}\n\n');
    release();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += decoder.decode(chunk.value as Uint8Array);
    expect(rest).toBe('data: {"n":2}\n\ndata: [DONE]\n\n');
  });

  it('cancels the gateway call when the caller aborts', async () => {
    const fetch = makeFetch();
    const controller = new AbortController();
    const arrived = once(events, 'request');
    const response = await fetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      body: '{}',
      signal: controller.signal,
    });
    await arrived;
    const closed = once(events, 'closed') as Promise<[boolean]>;
    const reading = response.text();
    controller.abort();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    const [finished] = await closed;
    expect(finished).toBe(false);
  });
});

// a Request's signal follows its parent's only through a WeakRef its controller is held by: once
// the wrapper's own Request was collected, an abort no longer reached the fetch it had started
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function collectGarbage(): Promise<void> {
  for (let round = 0; round < 5; round += 1) {
    gc();
    await new Promise(setImmediate);
  }
}

describe('createGatewayFetch, once garbage is collected', () => {
  it.each([
    ['routed to the gateway', 'routed', 'init'],
    ['routed to the gateway, a Request as input', 'routed', 'request'],
    ['sent direct, failing open', 'direct', 'init'],
    ['sent direct, failing open, a Request as input', 'direct', 'request'],
    ["to the gateway's own routes", 'own', 'init'],
    ["to the gateway's own routes, a Request as input", 'own', 'request'],
    ['routed, with a fetch given in the options', 'custom', 'init'],
    ["to the gateway's own routes, with a fetch given in the options", 'custom-own', 'request'],
  ] as const)('still cancels the call when the caller aborts: %s', async (_name, route, input) => {
    const host = new URL(gatewayUrl).host;
    const fetch =
      route === 'direct'
        ? createGatewayFetch({ gatewayUrl: await closedPortUrl(), providerHosts: [host] })
        : createGatewayFetch({
            gatewayUrl,
            providerHosts: ['api.openai.com'],
            ...(route.startsWith('custom') ? { fetch: undiciFetch as unknown as FetchFunction } : {}),
          });
    const url =
      route === 'routed' || route === 'custom'
        ? 'https://api.openai.com/v1/chat/completions'
        : `${gatewayUrl}/v1/chat/completions`;
    const controller = new AbortController();
    const reason = new Error('the caller gave up');
    const init = { method: 'POST', body: '{"stream":true}', signal: controller.signal };
    // the caller keeps its Request (its signal follows the controller's through it)
    const request = input === 'request' ? new Request(url, init) : undefined;
    const response = await (request === undefined ? fetch(url, init) : fetch(request));
    const reader = response.body!.getReader();
    await reader.read();
    const closed = once(events, 'closed') as Promise<[boolean]>;
    await collectGarbage();
    controller.abort(reason);
    await expect(reader.read()).rejects.toBe(reason);
    const [finished] = await closed;
    expect(finished).toBe(false);
    expect(request?.signal.aborted ?? true).toBe(true);
  });
});
