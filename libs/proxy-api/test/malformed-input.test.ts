import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppOptions } from '../src/index';

const MASTER = 'sy-master-property-0123456789';
const gateway: AppOptions['gateway'] = {
  providers: [{ name: 'mock', type: 'mock' }],
  models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
};
let open: FastifyInstance;
let guarded: FastifyInstance;

beforeAll(async () => {
  open = createApp({ gateway, bodyLimitBytes: 64 * 1024, jsonMaxDepth: 16 });
  guarded = createApp({
    gateway,
    admin: { masterKey: MASTER },
    keys: [{ key: 'sk-sy-property-test-key-000000', name: 'p', rpm: 100_000 }],
  });
  await Promise.all([open.ready(), guarded.ready()]);
});
afterAll(async () => {
  await Promise.all([open.close(), guarded.close()]);
});

/** No 5xx, and every error is OpenAI-shaped with exactly message, type, param, code. */
function expectClientOutcome(response: LightMyRequestResponse): void {
  expect(response.statusCode, response.body).toBeLessThan(500);
  if (response.statusCode < 400) return;
  const parsed = JSON.parse(response.body) as { error: Record<string, unknown> };
  expect(Object.keys(parsed.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof parsed.error['message']).toBe('string');
  expect(typeof parsed.error['code']).toBe('string');
  expect(response.body).not.toMatch(/at .*\.(ts|js):\d+/);
}

const routes = ['/v1/chat/completions', '/v1/embeddings'] as const;
const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 200,
});
const poisonKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'model',
  'messages',
  'stream',
  'input',
);

describe('malformed requests (property-based)', () => {
  it('any JSON value as the body: a 2xx or an OpenAI-shaped 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.jsonValue({ maxDepth: 6 }), async (url, value) => {
        expectClientOutcome(
          await open.inject({
            method: 'POST',
            url,
            headers: { 'content-type': 'application/json' },
            payload: JSON.stringify(value),
          }),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('near-valid chat bodies with wrong types, extra keys and poisoned keys', async () => {
    const message = fc.record(
      {
        role: fc.oneof(fc.constantFrom('user', 'system', 'assistant', 'tool'), fc.jsonValue()),
        content: fc.oneof(fc.string(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            model: fc.oneof(fc.constant('demo'), fc.jsonValue()),
            messages: fc.oneof(fc.array(message, { maxLength: 3 }), fc.jsonValue()),
            stream: fc.oneof(fc.boolean(), fc.jsonValue()),
          },
          { requiredKeys: [] },
        ),
        fc.dictionary(poisonKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
        async (body, extra) => {
          const text = JSON.stringify(body).replace(
            /^\{/,
            `{${Object.entries(extra)
              .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)},`)
              .join('')}`,
          );
          expectClientOutcome(
            await open.inject({
              method: 'POST',
              url: '/v1/chat/completions',
              headers: { 'content-type': 'application/json' },
              payload: text,
            }),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('arbitrary text, truncated JSON and deep nesting as the body: a 4xx', async () => {
    const truncated = fc.jsonValue({ maxDepth: 4 }).chain((value) => {
      const text = JSON.stringify(value);
      return fc.integer({ min: 0, max: Math.max(0, text.length - 1) }).map((cut) => text.slice(0, cut));
    });
    const deep = fc
      .integer({ min: 17, max: 5_000 })
      .map((depth) => `{"model":"demo","messages":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: 'binary', maxLength: 300 }),
          truncated,
          deep,
        ),
        async (url, text) => {
          const response = await open.inject({
            method: 'POST',
            url,
            headers: { 'content-type': 'application/json' },
            payload: text,
          });
          expectClientOutcome(response);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('arbitrary authorization, key, request-id and content-type headers: never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes, '/v1/models', '/admin/keys', '/proxy/openai/v1/chat/completions'),
        fc.record(
          {
            authorization: fc.oneof(
              printable,
              printable.map((s) => `Bearer ${s}`),
              fc.constant(`Bearer ${MASTER}`),
              fc.constant('Bearer sk-sy-property-test-key-000000'),
            ),
            'x-switchyard-key': printable,
            'x-request-id': printable,
            'content-type': fc.oneof(
              printable,
              fc.constantFrom(
                'application/json',
                'application/json; charset=utf-8',
                'text/plain',
                'application/x-www-form-urlencoded',
              ),
            ),
          },
          { requiredKeys: [] },
        ),
        fc.oneof(fc.constant('{"model":"demo","messages":[{"role":"user","content":"hi"}]}'), printable),
        async (url, headers, payload) => {
          const response = await guarded.inject({
            method: url === '/v1/models' || url === '/admin/keys' ? 'GET' : 'POST',
            url,
            headers,
            payload,
          });
          expectClientOutcome(response);
        },
      ),
      { numRuns: 200 },
    );
  });
});
