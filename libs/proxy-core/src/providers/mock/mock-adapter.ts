import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Type, type Static } from '@sinclair/typebox';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../../wire/openai-chat';
import type { EmbeddingRequest, EmbeddingResponse } from '../../wire/openai-embeddings';
import { transportError } from '../../http/upstream-error';
import {
  PROVIDER_CONTRACT_VERSION,
  type ProviderAdapter,
  type ProviderCallContext,
  type ProviderConfigBase,
  type ProviderFactory,
} from '../provider-adapter';
import { callCancellation } from '../provider-call-cancellation';
import { choiceIndexes, estimateTokens, mockReply, splitForStream } from './mock-reply';

/** Options of the built-in mock provider. */
export const MockProviderOptionsSchema = Type.Object(
  {
    /** Delay before answering, to simulate an upstream. @default 0 */
    latencyMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
    /** Delay between stream chunks. @default 0 */
    chunkDelayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    /** Length of mock embedding vectors when the request gives no `dimensions`. @default 16 */
    embeddingDimensions: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096 })),
  },
  { additionalProperties: false },
);

/** Options of the mock provider (see {@link MockProviderOptionsSchema}). */
export type MockProviderOptions = Static<typeof MockProviderOptionsSchema>;

let sequence = 0;
const nextId = (prefix: string): string => `${prefix}-mock${(++sequence).toString(36)}`;

async function wait(ms: number, context: ProviderCallContext, provider: string): Promise<void> {
  if (ms <= 0) {
    // no wait, nothing to listen on: the call's AbortSignal is not made
    const cancellation = callCancellation(context);
    if (cancellation.aborted) throw transportError(provider, cancellation.reason, cancellation);
    return;
  }
  try {
    await delay(ms, undefined, { signal: context.signal });
  } catch (cause) {
    throw transportError(provider, cause, context.signal);
  }
}

/**
 * A deterministic provider with no network: it answers chat, streams and embeddings, so
 * the gateway is useful out of the box, in demos and in tests. It answers every tool form OpenAI
 * takes as OpenAI does (see `mockReply`), legacy function calling included.
 */
export class MockAdapter implements ProviderAdapter {
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly type = 'mock';
  readonly name: string;
  readonly #options: MockProviderOptions;

  constructor(options: MockProviderOptions & ProviderConfigBase) {
    this.name = options.name;
    this.#options = options;
  }

  async chat(request: ChatCompletionRequest, context: ProviderCallContext): Promise<ChatCompletion> {
    await wait(this.#options.latencyMs ?? 0, context, this.name);
    const reply = mockReply(request, context.model);
    return {
      id: nextId('chatcmpl'),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: context.model,
      choices: choiceIndexes(request).map((index) => ({
        index,
        message: {
          role: 'assistant',
          content: reply.content,
          ...(reply.toolCalls.length > 0 ? { tool_calls: reply.toolCalls } : {}),
          ...(reply.functionCall === undefined ? {} : { function_call: reply.functionCall }),
        },
        finish_reason: reply.finishReason,
      })),
      usage: reply.usage,
    };
  }

  async stream(
    request: ChatCompletionRequest,
    context: ProviderCallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    await wait(this.#options.latencyMs ?? 0, context, this.name);
    return this.#chunks(request, context);
  }

  async *#chunks(
    request: ChatCompletionRequest,
    context: ProviderCallContext,
  ): AsyncGenerator<ChatCompletionChunk> {
    const reply = mockReply(request, context.model);
    const base = {
      id: nextId('chatcmpl'),
      object: 'chat.completion.chunk' as const,
      created: Math.floor(Date.now() / 1000),
      model: context.model,
    };
    const chunkDelay = this.#options.chunkDelayMs ?? 0;
    const indexes = choiceIndexes(request);
    yield {
      ...base,
      choices: indexes.map((index) => ({
        index,
        delta: { role: 'assistant', content: '' },
        finish_reason: null,
      })),
    };
    // each choice's deltas in chunks of their own, as OpenAI streams `n` choices
    for (const [t, call] of reply.toolCalls.entries()) {
      for (const index of indexes) {
        yield {
          ...base,
          choices: [{ index, delta: { tool_calls: [{ index: t, ...call }] }, finish_reason: null }],
        };
      }
    }
    if (reply.functionCall !== undefined) {
      for (const index of indexes)
        yield {
          ...base,
          choices: [{ index, delta: { function_call: reply.functionCall }, finish_reason: null }],
        };
    }
    for (const piece of splitForStream(reply.content ?? '')) {
      await wait(chunkDelay, context, this.name);
      for (const index of indexes)
        yield { ...base, choices: [{ index, delta: { content: piece }, finish_reason: null }] };
    }
    for (const index of indexes)
      yield { ...base, choices: [{ index, delta: {}, finish_reason: reply.finishReason }] };
    yield { ...base, choices: [], usage: reply.usage };
  }

  async embed(request: EmbeddingRequest, context: ProviderCallContext): Promise<EmbeddingResponse> {
    await wait(this.#options.latencyMs ?? 0, context, this.name);
    const inputs =
      typeof request.input === 'string'
        ? [request.input]
        : request.input.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
    const dimensions = request.dimensions ?? this.#options.embeddingDimensions ?? 16;
    const data = inputs.map((input, index) => {
      const vector = deterministicVector(input, dimensions);
      const embedding =
        request.encoding_format === 'base64'
          ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
          : vector;
      return { object: 'embedding' as const, index, embedding };
    });
    const tokens = inputs.reduce((sum, input) => sum + estimateTokens(input), 0);
    return {
      object: 'list',
      data,
      model: context.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }
}

/** A unit vector derived from the text's SHA-256, so equal texts embed equally. */
function deterministicVector(text: string, dimensions: number): number[] {
  const values: number[] = [];
  let block = 0;
  while (values.length < dimensions) {
    const digest = createHash('sha256').update(`${block++}:${text}`).digest();
    for (let i = 0; i + 1 < digest.length && values.length < dimensions; i += 2)
      values.push(digest.readInt16BE(i) / 32768);
  }
  // a loop, not Math.hypot(...values): spreading a long vector overflows the call stack
  let squares = 0;
  for (const value of values) squares += value * value;
  const norm = Math.sqrt(squares) || 1;
  return values.map((value) => value / norm);
}

/** The built-in `mock` provider type. */
export const mockProvider: ProviderFactory<MockProviderOptions> = {
  type: 'mock',
  optionsSchema: MockProviderOptionsSchema,
  create: (options) => new MockAdapter(options),
};
