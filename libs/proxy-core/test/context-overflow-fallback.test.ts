import { describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway/create-gateway';
import { useGatewayFixture } from './support/gateway-fixture';
import { ask, callsTo, gatewayFor } from './resilience-harness';

// A prompt past the context window of an OpenAI-compatible host moves on to a larger model
// when the route asks for it (fallbackOn.contextLengthExceeded), whatever words the host
// says it in: each body is what the host answers (xAI, llama.cpp, Hugging Face TGI, OpenRouter).

const fixture = useGatewayFixture({ streamChunks: 4 });

function make(): Gateway {
  return fixture.track(
    gatewayFor(fixture.upstream, {
      models: [
        {
          name: 'm',
          targets: [{ provider: 'primary', model: 'bad' }],
          fallbacks: ['large'],
          fallbackOn: { contextLengthExceeded: true },
        },
        { name: 'large', targets: [{ provider: 'backup', model: 'good' }] },
      ],
    }),
  );
}

describe('fallbackOn.contextLengthExceeded with the context-window errors of OpenAI-compatible hosts', () => {
  it.each([
    [
      'xai',
      400,
      {
        code: 'Client specified an invalid argument',
        error: "This model's maximum prompt length is 131072 but the request contains 179111 tokens.",
      },
    ],
    [
      'llama.cpp',
      400,
      {
        error: {
          code: 400,
          message: 'the request exceeds the available context size, try increasing it',
          type: 'exceed_context_size_error',
          n_prompt_tokens: 5210,
          n_ctx: 4096,
        },
      },
    ],
    [
      'hugging face tgi',
      422,
      {
        error:
          'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 32768. Given: 40000 `inputs` tokens and 1024 `max_new_tokens`',
        error_type: 'validation',
      },
    ],
    [
      'openrouter',
      400,
      {
        error: {
          message: 'Input length 300000 exceeds the maximum allowed input length of 262144 tokens.',
          code: 400,
        },
      },
    ],
  ])('moves on to the larger model when %s answers %i', async (_host, status, body) => {
    fixture.upstream.fault({ kind: 'status', status, body, match: { model: 'bad' } });
    await expect(make().chat(ask('m'))).resolves.toMatchObject({ model: 'good' });
    expect(callsTo(fixture.upstream, '/backup/')).toBe(1);
  });

  it("takes llama.cpp's exceed_context_size_error event opening a stream as the request's fault: not retried, context_length_exceeded", async () => {
    fixture.upstream.fault({
      kind: 'stream-error',
      afterChunks: 0,
      error: {
        code: 400,
        message: 'the request exceeds the available context size, try increasing it',
        type: 'exceed_context_size_error',
      },
      match: { model: 'bad' },
    });
    const gateway = fixture.track(
      gatewayFor(fixture.upstream, {
        models: [{ name: 'm', targets: [{ provider: 'primary', model: 'bad' }] }],
      }),
    );
    await expect(gateway.stream({ ...ask('m'), stream: true })).rejects.toMatchObject({
      code: 'context_length_exceeded',
    });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(1);
  });
});
