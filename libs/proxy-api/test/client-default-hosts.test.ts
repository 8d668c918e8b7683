import type { ResolveAll } from '@switchyard/proxy-core';
import { DEFAULT_PROVIDER_HOSTS } from '@switchyard/proxy-client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// The client SDK routes its default provider hosts through the gateway: a gateway with the
// default proxy options must take every one of them (and meter it), not refuse it as a target.
// No name resolves here, so an allowed target fails to connect (502), a refused one is a 403.

const resolved: string[] = [];
const resolve: ResolveAll = (hostname, callback) => {
  resolved.push(hostname);
  callback(Object.assign(new Error(`no DNS in this test: ${hostname}`), { code: 'ENOTFOUND' }), []);
};

let app: FastifyInstance;
beforeAll(async () => {
  app = createApp({ gateway: { providers: [{ name: 'mock', type: 'mock' }] }, proxy: { resolve } });
  await app.ready();
});
afterAll(() => app.close());

describe("the client SDK's default provider hosts", () => {
  it.each([
    ['deepseek/v1/chat/completions', 'api.deepseek.com'],
    ['openrouter/api/v1/chat/completions', 'openrouter.ai'],
    ['fireworks/inference/v1/chat/completions', 'api.fireworks.ai'],
    ['xai/v1/chat/completions', 'api.x.ai'],
  ])('/proxy/%s goes to %s by its built-in route prefix', async (path, host) => {
    const response = await app.inject({
      method: 'POST',
      url: `/proxy/${path}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.json()).toMatchObject({ error: { code: 'upstream_connection_error' } });
    expect(resolved).toContain(host);
  });

  it.each(DEFAULT_PROVIDER_HOSTS.map((pattern) => pattern.replace(/^\*\./, 'my-resource.')))(
    '%s is an allowed proxy target by default',
    async (host) => {
      const response = await app.inject({
        method: 'POST',
        url: '/proxy/v1/chat/completions',
        headers: { 'content-type': 'application/json', 'x-switchyard-target': `https://${host}` },
        payload: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(response.json()).toMatchObject({ error: { code: 'upstream_connection_error' } });
      expect(resolved).toContain(host);
    },
  );
});
