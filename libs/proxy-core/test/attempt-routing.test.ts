import { afterEach, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../src/gateway/create-gateway';
import type { GatewayOptions } from '../src/gateway/gateway-options';
import { createRequestContext } from '../src/gateway/request-context';
import { SwitchyardError } from '../src/errors/switchyard-error';
import type { GatewayPlugin } from '../src/hooks/gateway-hooks';
import { PROVIDER_CONTRACT_VERSION, type ProviderAdapter } from '../src/providers/provider-adapter';
import type { ChatCompletion, ChatCompletionRequest } from '../src/wire/openai-chat';

const ask = (model: string, extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model,
  messages: [{ role: 'user', content: 'Hello!' }],
  ...extra,
});

const answer = (model: string): ChatCompletion => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 0,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

/** A chat-only provider type (no `embed`) whose calls `chat` answers; each call is logged as `instance/model`. */
function scripted(
  type: string,
  chat: (request: ChatCompletionRequest, model: string, name: string) => Promise<ChatCompletion>,
  calls: string[] = [],
): GatewayPlugin {
  return {
    name: `scripted-${type}`,
    apply: (hooks) =>
      hooks.registerProviders.tap(`scripted-${type}`, (registry) =>
        registry.register({
          type,
          create: ({ name }): ProviderAdapter => ({
            contractVersion: PROVIDER_CONTRACT_VERSION,
            name,
            type,
            chat: (request, context) => {
              calls.push(`${name}/${context.model}`);
              return chat(request, context.model, name);
            },
            stream: () => Promise.reject(new SwitchyardError('upstream_error', 'no streams here')),
          }),
        }),
      ),
  };
}

const gateways: Gateway[] = [];
const make = (options: GatewayOptions): Gateway => {
  const gateway = createGateway(options);
  gateways.push(gateway);
  return gateway;
};

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

describe('a target that refuses a request before calling upstream', () => {
  it('keeps no limiter slot for embeddings on a provider without embed', async () => {
    const calls: string[] = [];
    const gateway = make({
      plugins: [scripted('chat-only', (_request, model) => Promise.resolve(answer(model)), calls)],
      providers: [{ name: 'anth', type: 'chat-only' }],
      models: [
        { name: 'claude', targets: [{ provider: 'anth', model: 'c', limits: { requestsPerMinute: 3 } }] },
      ],
      limiter: { maxWaitMs: 0 },
      retry: { maxRetries: 0 },
    });
    for (let i = 0; i < 3; i++) {
      const context = createRequestContext({ endpoint: 'embeddings' });
      await expect(gateway.embed({ model: 'claude', input: 'x' }, { context })).rejects.toMatchObject({
        code: 'unsupported_feature',
        status: 400,
      });
      expect(context.attempts.map((attempt) => [attempt.error?.code, attempt.called])).toEqual([
        ['unsupported_feature', false],
      ]);
    }
    const response = await gateway.chat(ask('claude'));
    expect(response.choices[0]?.message.content).toBe('ok');
    expect(calls).toEqual(['anth/c']);
  });

  it('gives back the request and tokens of a call its adapter refused (n above 1 on a host that takes none)', async () => {
    const calls: string[] = [];
    const refusesN = scripted(
      'one-choice',
      (request, model, name) =>
        (request.n ?? 1) > 1
          ? Promise.reject(
              new SwitchyardError('unsupported_feature', `Provider "${name}" answers one choice.`, {
                param: 'n',
              }),
            )
          : Promise.resolve(answer(model)),
      calls,
    );
    const gateway = make({
      plugins: [refusesN],
      providers: [{ name: 'host', type: 'one-choice' }],
      models: [
        {
          name: 'm',
          targets: [
            { provider: 'host', model: 'llama', limits: { requestsPerMinute: 1, tokensPerMinute: 1000 } },
          ],
        },
      ],
      limiter: { maxWaitMs: 0 },
      retry: { maxRetries: 0 },
      breaker: { enabled: false },
    });
    const refused = createRequestContext();
    // weighs the whole per-minute token limit (prompt + 2 × 100 000, capped)
    await expect(
      gateway.chat(ask('m', { n: 2, max_tokens: 100_000 }), { context: refused }),
    ).rejects.toMatchObject({ code: 'unsupported_feature', status: 400 });
    expect(refused.attempts.map((attempt) => attempt.called)).toEqual([false]);
    const response = await gateway.chat(ask('m', { max_tokens: 10 }));
    expect(response.choices[0]?.message.content).toBe('ok');
    expect(calls).toEqual(['host/llama', 'host/llama']);
  });
});
