import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import type { ProviderCallContext } from './provider-adapter';
import { providerCallHeaders, providerCallOptions } from './provider-call-options';

const context = (headers: Record<string, string>): ProviderCallContext => ({
  model: 'm',
  signal: new AbortController().signal,
  requestId: 'req-1',
  headers,
});

describe('providerCallHeaders', () => {
  it("adds the call's trace headers to the adapter's own, and sets accept and the request id last", () => {
    const own = { authorization: 'Bearer sk-own', accept: 'text/plain', 'x-request-id': 'own' };
    const headers = providerCallHeaders(
      own,
      context({ traceparent: '00-abc-def-01', 'x-request-id': 'traced' }),
      'text/event-stream',
    );
    expect(headers).toEqual({
      authorization: 'Bearer sk-own',
      traceparent: '00-abc-def-01',
      accept: 'text/event-stream',
      'x-request-id': 'req-1',
    });
    // a fresh object per call: the adapter's own headers are not changed
    expect(own).toEqual({ authorization: 'Bearer sk-own', accept: 'text/plain', 'x-request-id': 'own' });
  });
});

describe('providerCallOptions', () => {
  it("builds a JSON call from the adapter's defaults, cancelled with the attempt", async () => {
    const dispatcher = new Agent();
    const readError = (): { message: string } => ({ message: 'failed' });
    const call = context({});
    const options = providerCallOptions(
      { provider: 'p', headers: { 'x-api-key': 'k' }, dispatcher, readError },
      'https://api.example.com/v1/x',
      { a: 1 },
      call,
    );
    expect(options).toMatchObject({
      provider: 'p',
      url: 'https://api.example.com/v1/x',
      json: { a: 1 },
      dispatcher,
      readError,
    });
    expect(options.headers).toEqual({
      'x-api-key': 'k',
      accept: 'application/json',
      'x-request-id': 'req-1',
    });
    expect(options.signal).toBeDefined();
    await dispatcher.close();
  });
});
