import { captureLogLines } from '@switchyard/testing';
import { createGateway, GATEWAY_DEFAULTS, type Gateway } from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/index';

// createApp accepts any gateway with chat() and stream(): one built by an older copy of
// @switchyard/proxy-core (an app and its gateway from different installs) has no `timeouts`.

const apps: FastifyInstance[] = [];
const gateways: Gateway[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

/** A working gateway as a copy of proxy-core from before `gateway.timeouts` would build it. */
function gatewayWithoutTimeouts(): Gateway {
  const built = createGateway({
    providers: [{ name: 'mock', type: 'mock' }],
    models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
  });
  gateways.push(built);
  return new Proxy(built, {
    get(target, name) {
      if (name === 'timeouts') return undefined;
      const value: unknown = Reflect.get(target, name, target);
      // its methods use private fields: call them on the gateway itself
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('createApp({ gateway }) with a gateway that has no timeouts', () => {
  it('starts and serves, taking the default time bounds, with a warning naming gateway.timeouts', async () => {
    const log = captureLogLines();
    const app = createApp({
      gateway: gatewayWithoutTimeouts(),
      logger: { level: 'warn', stream: log.stream },
    });
    apps.push(app);
    await app.ready();
    const warned = log.lines().filter((line) => String(line['msg']).includes('gateway.timeouts'));
    expect(warned).toEqual([
      expect.objectContaining({
        level: 40,
        assumed: {
          requestTimeoutMs: GATEWAY_DEFAULTS.requestTimeoutMs,
          attemptTimeoutMs: GATEWAY_DEFAULTS.attemptTimeoutMs,
          streamIdleTimeoutMs: GATEWAY_DEFAULTS.streamIdleTimeoutMs,
        },
      }),
    ]);
    expect(String(warned[0]?.['msg'])).toMatch(/^the gateway passed in has no gateway\.timeouts/);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(response.statusCode).toBe(200);
  });
});
