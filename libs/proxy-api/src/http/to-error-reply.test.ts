import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../index';
import { toErrorReply } from './to-error-reply';

// Ajv stops at the first failure: for a union (anyOf), the errors of every alternative come
// first, then the union's own. The message used to be the first alternative's, often of another
// kind than the value ("'stop' must be string" for 5 stop sequences).

let app: FastifyInstance;
beforeAll(async () => {
  app = createApp({
    gateway: {
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
    },
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

const user = { role: 'user', content: 'Hi' };

async function refusal(
  url: string,
  body: Record<string, unknown>,
): Promise<{ message: string; param: string | null }> {
  const response = await app.inject({ method: 'POST', url, payload: { model: 'demo', ...body } });
  expect(response.statusCode, response.body).toBe(400);
  const { message, param } = response.json<{ error: { message: string; param: string | null } }>().error;
  return { message, param };
}
const chat = (body: Record<string, unknown>) =>
  refusal('/v1/chat/completions', { messages: [user], ...body });

describe('validation messages of unions: the alternative the value is of', () => {
  it('stop with 5 items: more than 4 items, not "must be string"', async () => {
    expect(await chat({ stop: ['a', 'b', 'c', 'd', 'e'] })).toEqual({
      message: "Invalid request: 'stop' must NOT have more than 4 items.",
      param: 'stop',
    });
  });

  it('stop of no allowed type: the types allowed', async () => {
    expect(await chat({ stop: 5 })).toEqual({
      message: "Invalid request: 'stop' must be string, array or null.",
      param: 'stop',
    });
  });

  it("an object tool_choice: the object alternative's problem", async () => {
    expect(await chat({ tool_choice: { type: 'function' } })).toEqual({
      message: "Invalid request: 'tool_choice.function' must have required property 'function'.",
      param: 'tool_choice.function',
    });
    expect(await chat({ tool_choice: { type: 'function', function: { name: 7 } } })).toEqual({
      message: "Invalid request: 'tool_choice.function.name' must be string.",
      param: 'tool_choice.function.name',
    });
  });

  it('an object tool_choice of an unknown type: the types allowed', async () => {
    expect(await chat({ tool_choice: { type: 'tool' } })).toEqual({
      message: "Invalid request: 'tool_choice.type' must be one of: function, custom, allowed_tools.",
      param: 'tool_choice.type',
    });
    expect(
      await chat({ tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'any', tools: [] } } }),
    ).toEqual({
      message: "Invalid request: 'tool_choice.allowed_tools.mode' must be one of: auto, required.",
      param: 'tool_choice.allowed_tools.mode',
    });
  });

  it('a string tool_choice not allowed: the strings allowed, and that an object may be', async () => {
    expect(await chat({ tool_choice: 'any' })).toEqual({
      message: "Invalid request: 'tool_choice' must be one of: none, auto, required, or object.",
      param: 'tool_choice',
    });
  });

  it('a wrong role: the roles allowed, not "must be equal to constant"', async () => {
    expect(await chat({ messages: [{ role: 'bot', content: 'Hi' }] })).toEqual({
      message:
        "Invalid request: 'messages.0.role' must be one of: system, developer, user, assistant, tool, function.",
      param: 'messages.0.role',
    });
  });

  it('input ["a", 1]: the array item that is wrong, not "\'input\' must be string"', async () => {
    expect(await refusal('/v1/embeddings', { input: ['a', 1] })).toEqual({
      message: "Invalid request: 'input.1' must be string.",
      param: 'input.1',
    });
  });

  it('a tool of no known type names its type', async () => {
    expect(await chat({ tools: [{ type: 'web_search' }] })).toEqual({
      message: "Invalid request: 'tools.0.type' must be one of: function, custom.",
      param: 'tools.0.type',
    });
  });

  it('leaves errors outside unions as they were', async () => {
    expect(await chat({ temperature: 3 })).toEqual({
      message: "Invalid request: 'temperature' must be <= 2.",
      param: 'temperature',
    });
    expect(await refusal('/v1/chat/completions', {})).toEqual({
      message: "Invalid request: 'messages' must have required property 'messages'.",
      param: 'messages',
    });
  });
});

describe('toErrorReply', () => {
  it('reports an error with no alternatives as Ajv gives it', () => {
    const error = toErrorReply({
      validation: [
        {
          instancePath: '/n',
          schemaPath: '#/properties/n/maximum',
          keyword: 'maximum',
          message: 'must be <= 128',
        },
      ],
    });
    expect(error).toMatchObject({
      code: 'invalid_request',
      param: 'n',
      message: "Invalid request: 'n' must be <= 128.",
    });
  });
});
