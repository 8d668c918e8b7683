import { describe, expect, it } from 'vitest';
import { createPricingRegistry } from '../../../pricing/pricing-registry';
import type { MeterExchange } from '../../meter-exchange';
import { createMeterRegistry } from '../../meter-registry';
import { azureOpenAIMeter } from './azure-openai-meter';

// Claude in Microsoft Foundry answers Anthropic's Messages API at
// `https://{resource}.services.ai.azure.com/anthropic/v1/messages`, billed through Azure at
// Anthropic's list prices
// (https://platform.claude.com/docs/en/build-with-claude/claude-in-microsoft-foundry)

const FOUNDRY = 'https://my-resource.services.ai.azure.com';

function exchange(
  url: string,
  answer: string,
  options: { stream?: boolean; model?: string; status?: number } = {},
): MeterExchange {
  return {
    method: 'POST',
    url: new URL(url),
    requestHeaders: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    requestText: JSON.stringify({
      model: options.model ?? 'claude-sonnet-4-5',
      max_tokens: 1024,
      ...(options.stream === true ? { stream: true } : {}),
      messages: [{ role: 'user', content: 'Hello' }],
    }),
    status: options.status ?? 200,
    responseHeaders: { 'content-type': options.stream === true ? 'text/event-stream' : 'application/json' },
    responseText: answer,
    responseBytes: answer.length,
  };
}

const message = (usage: Record<string, unknown>): string =>
  JSON.stringify({
    id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [{ type: 'text', text: 'Hello!' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage,
  });

const events = (...items: Record<string, unknown>[]): string =>
  items.map((item) => `event: ${String(item['type'])}\ndata: ${JSON.stringify(item)}\n\n`).join('');

const stream = (delta: Record<string, unknown>): string =>
  events(
    {
      type: 'message_start',
      message: {
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [],
        usage: {
          input_tokens: 50,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 100_000,
          output_tokens: 1,
        },
      },
    },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
    { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: delta },
    { type: 'message_stop' },
  );

describe('azure-openai meter: Claude in Microsoft Foundry', () => {
  const meters = createMeterRegistry({ billedObjectsKept: 0 });
  const pricing = createPricingRegistry({ now: () => new Date('2026-11-23T12:00:00Z') });
  const foundry = (answer: string, stream = false): MeterExchange =>
    exchange(`${FOUNDRY}/anthropic/v1/messages`, answer, { stream });
  const direct = (answer: string, stream = false): MeterExchange =>
    exchange('https://api.anthropic.com/v1/messages', answer, { stream });

  it("reads a Messages answer's cache reads and writes, as on Anthropic's API", () => {
    const read = message({
      input_tokens: 50,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 100_000,
      output_tokens: 500,
    });
    expect(azureOpenAIMeter.meter(foundry(read))).toEqual({
      provider: 'azure-openai',
      model: 'claude-sonnet-4-5-20250929',
      operation: 'messages',
      tokens: { inputTokens: 100_050, outputTokens: 500, cachedInputTokens: 100_000 },
      units: {},
    });
    const written = message({
      input_tokens: 50,
      cache_creation_input_tokens: 100_000,
      cache_read_input_tokens: 0,
      output_tokens: 500,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 100_000 },
    });
    expect(azureOpenAIMeter.meter(foundry(written))?.tokens).toEqual({
      inputTokens: 100_050,
      outputTokens: 500,
      cacheWriteTokens: 100_000,
      cacheWrite1hTokens: 100_000,
    });
  });

  it('meters a stream from message_start and message_delta, deltas counting alone or cumulatively', () => {
    for (const delta of [
      { output_tokens: 500 },
      {
        input_tokens: 50,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 100_000,
        output_tokens: 500,
      },
    ])
      expect(azureOpenAIMeter.meter(foundry(stream(delta), true))).toEqual({
        provider: 'azure-openai',
        model: 'claude-sonnet-4-5-20250929',
        operation: 'messages',
        tokens: { inputTokens: 100_050, outputTokens: 500, cachedInputTokens: 100_000 },
        units: {},
      });
  });

  it("costs what the same answer costs on Anthropic's API: Anthropic's list prices", () => {
    const answers: [string, boolean][] = [
      [
        message({
          input_tokens: 50,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 100_000,
          output_tokens: 500,
        }),
        false,
      ],
      [
        message({
          input_tokens: 50,
          cache_creation_input_tokens: 100_000,
          output_tokens: 500,
          cache_creation: { ephemeral_5m_input_tokens: 100_000, ephemeral_1h_input_tokens: 0 },
        }),
        false,
      ],
      [stream({ output_tokens: 500 }), true],
    ];
    for (const [answer, streamed] of answers) {
      const onFoundry = pricing.meteredCostUsd(meters.meter(foundry(answer, streamed))!);
      expect(onFoundry).not.toBeNull();
      expect(onFoundry).toBe(pricing.meteredCostUsd(meters.meter(direct(answer, streamed))!));
    }
    // 50 x $3 + 100000 x $0.30 + 500 x $15 per 1M tokens
    expect(pricing.meteredCostUsd(meters.meter(foundry(answers[0]![0]))!)).toBe(0.03765);
  });

  it("names the model the answer gives, not the deployment name the request's `model` holds", () => {
    const usage = azureOpenAIMeter.meter(
      exchange(`${FOUNDRY}/anthropic/v1/messages`, message({ input_tokens: 10, output_tokens: 5 }), {
        model: 'my-claude-deployment',
      }),
    );
    expect(usage?.model).toBe('claude-sonnet-4-5-20250929');
  });

  it('meters nothing for token counting (free) or a failed call', () => {
    expect(
      azureOpenAIMeter.meter(
        exchange(`${FOUNDRY}/anthropic/v1/messages/count_tokens`, JSON.stringify({ input_tokens: 14 })),
      ),
    ).toBeUndefined();
    const overloaded = JSON.stringify({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    expect(
      azureOpenAIMeter.meter(exchange(`${FOUNDRY}/anthropic/v1/messages`, overloaded, { status: 529 })),
    ).toBeUndefined();
  });

  it("still meters the OpenAI-shaped APIs of the same hosts by OpenAI's usage", () => {
    const chat = JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: 'gpt-4o-2024-11-20',
      choices: [],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    });
    for (const path of ['/openai/v1/chat/completions', '/models/chat/completions'])
      expect(azureOpenAIMeter.meter(exchange(`${FOUNDRY}${path}`, chat))).toEqual({
        provider: 'azure-openai',
        model: 'gpt-4o-2024-11-20',
        operation: 'chat',
        tokens: { inputTokens: 10, outputTokens: 5 },
        units: {},
      });
  });
});
