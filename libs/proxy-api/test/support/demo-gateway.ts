import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { AppOptions } from '../../src/index';

/** A gateway with one model, `demo`, answered by the built-in mock provider (an echo, no upstream). */
export const DEMO_GATEWAY: AppOptions['gateway'] = {
  providers: [{ name: 'mock', type: 'mock' }],
  models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
};

/** One chat completion of the `demo` model with the virtual key `key`. */
export function chatDemo(app: FastifyInstance, key: string): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { authorization: `Bearer ${key}` },
    payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
  });
}
