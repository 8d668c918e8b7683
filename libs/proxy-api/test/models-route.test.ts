import type { FastifyInstance } from 'fastify';
import OpenAI, { NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// `GET /v1/models` lists what the caller's key may use (a key limited to some models was shown
// every alias, and a model picker offered models it was then refused), and `GET /v1/models/{model}`
// answers one, as OpenAI's API does (`client.models.retrieve()` was a 404 "Unknown route").

const LIMITED = 'sk-sy-limited-0123456789abcdef';
const EVERY = 'sk-sy-every-0123456789abcdefgh';

let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  app = createApp({
    gateway: {
      providers: [{ name: 'mock', type: 'mock' }],
      models: ['chat-small', 'chat-large', 'team/private'].map((name) => ({
        name,
        targets: [{ provider: 'mock', model: 'echo' }],
      })),
    },
    keys: [
      { key: LIMITED, name: 'limited', models: ['chat-*'] },
      { key: EVERY, name: 'every' },
    ],
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
});

const client = (apiKey: string): OpenAI => new OpenAI({ apiKey, baseURL: `${base}/v1`, maxRetries: 0 });

describe('/v1/models', () => {
  it("lists only the models a key limited to some may use, every model to a key that isn't", async () => {
    const ids = async (apiKey: string): Promise<string[]> => {
      const ids: string[] = [];
      for await (const model of client(apiKey).models.list()) ids.push(model.id);
      return ids;
    };
    expect(await ids(LIMITED)).toEqual(['chat-small', 'chat-large']);
    expect(await ids(EVERY)).toEqual(['chat-small', 'chat-large', 'team/private']);
  });

  it('retrieves one model, also one whose id has a slash (sent encoded by the SDK, or as it is)', async () => {
    expect(await client(LIMITED).models.retrieve('chat-small')).toMatchObject({
      id: 'chat-small',
      object: 'model',
    });
    expect(await client(EVERY).models.retrieve('team/private')).toMatchObject({ id: 'team/private' });
    const raw = await app.inject({
      method: 'GET',
      url: '/v1/models/team/private',
      headers: { authorization: `Bearer ${EVERY}` },
    });
    expect(raw.statusCode).toBe(200);
    expect(raw.json()).toMatchObject({ id: 'team/private', object: 'model' });
  });

  it('answers 404 model_not_found for a model that is not configured, or that the key may not use', async () => {
    for (const [apiKey, id] of [
      [EVERY, 'nope'],
      [LIMITED, 'team/private'],
    ] as const) {
      const error = await client(apiKey)
        .models.retrieve(id)
        .catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).error).toMatchObject({ code: 'model_not_found' });
    }
  });

  it('still asks for a key', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/models/chat-small' })).statusCode).toBe(401);
  });
});
