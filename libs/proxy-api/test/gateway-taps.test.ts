import {
  createGateway,
  type ChatCompletionRequest,
  type GatewayHooks,
  type RequestContext,
} from '@switchyard/proxy-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// A gateway handed to createApp outlives the app: what the app tapped on its hooks (request
// log, metrics, tracing, limits, context plugins) leaves with it, and only that.

const gateway = createGateway({
  providers: [{ name: 'mock', type: 'mock' }],
  models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
});
afterAll(() => gateway.close());

function tapCount(hooks: GatewayHooks): number {
  return (Object.values(hooks) as { taps?: unknown[] }[]).reduce(
    (sum, hook) => sum + (hook.taps?.length ?? 0),
    0,
  );
}

const chat: ChatCompletionRequest = { model: 'demo', messages: [{ role: 'user', content: 'hi' }] };

describe('an app on a gateway it was handed', () => {
  it('takes its taps off the gateway when it closes, and leaves the taps of others', async () => {
    const ended: RequestContext[] = [];
    gateway.hooks.onRequestEnd.tap('the owner', (context) => void ended.push(context));
    const before = tapCount(gateway.hooks);

    const first = createApp({
      gateway,
      requestLog: { store: 'sqlite', path: ':memory:' },
      context: { cache: { memory: { maxBytes: 1 << 20 } } },
    });
    await first.ready();
    expect(tapCount(gateway.hooks)).toBeGreaterThan(before);
    const second = createApp({ gateway, requestLog: { store: 'sqlite', path: ':memory:' } });
    await second.ready();
    const withBoth = tapCount(gateway.hooks);

    await first.close();
    // the second app's taps and the owner's stay, working
    expect(tapCount(gateway.hooks)).toBeLessThan(withBoth);
    expect(tapCount(gateway.hooks)).toBeGreaterThan(before);
    const answered = await second.inject({ method: 'POST', url: '/v1/chat/completions', payload: chat });
    expect(answered.statusCode).toBe(200);
    expect(answered.headers['x-switchyard-overhead-ms']).toBeDefined();
    expect(ended).toHaveLength(1);

    await second.close();
    expect(tapCount(gateway.hooks)).toBe(before);
    // the engine calls only what is left
    await gateway.chat(chat);
    expect(ended).toHaveLength(2);
  });

  it('leaves nothing behind however many apps are made and closed on it', async () => {
    const before = tapCount(gateway.hooks);
    for (let i = 0; i < 5; i++) {
      const app = createApp({ gateway });
      await app.ready();
      await app.close();
    }
    expect(tapCount(gateway.hooks)).toBe(before);
  });
});
