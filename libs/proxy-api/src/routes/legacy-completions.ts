import { Type, type Static } from '@sinclair/typebox';
import {
  SwitchyardError,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type ChatFinishReason,
  type ChatUsage,
} from '@switchyard/proxy-core';

/**
 * The `POST /v1/completions` (legacy) body the gateway accepts: text prompts only.
 * @see https://platform.openai.com/docs/api-reference/completions/create
 */
export const CompletionRequestSchema = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 256 }),
    prompt: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1, maxItems: 1 })]),
    max_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()])),
    top_p: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
    n: Type.Optional(Type.Union([Type.Literal(1), Type.Null()])),
    stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    stream_options: Type.Optional(Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }), Type.Null()])),
    stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 }), Type.Null()])),
    echo: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    presence_penalty: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    frequency_penalty: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    seed: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    user: Type.Optional(Type.String()),
    suffix: Type.Optional(Type.Null()),
    logprobs: Type.Optional(Type.Null()),
    best_of: Type.Optional(Type.Union([Type.Literal(1), Type.Null()])),
  },
  { additionalProperties: false },
);

/** A legacy completions request (see {@link CompletionRequestSchema}). */
export type CompletionRequest = Static<typeof CompletionRequestSchema>;

/** One choice of a `text_completion`. */
export interface CompletionChoice {
  text: string;
  index: number;
  logprobs: null;
  finish_reason: ChatFinishReason | null;
}

/** A `text_completion` body or stream chunk. */
export interface TextCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: CompletionChoice[];
  usage?: ChatUsage | null;
}

/** The legacy default of `max_tokens`. */
export const LEGACY_COMPLETION_DEFAULTS = { maxTokens: 16 } as const;

/** The chat request that answers one legacy prompt: the prompt as the single user message. */
export function completionToChat(request: CompletionRequest, prompt: string): ChatCompletionRequest {
  const chat: ChatCompletionRequest = {
    model: request.model,
    messages: [{ role: 'user', content: prompt }],
    max_tokens: request.max_tokens ?? LEGACY_COMPLETION_DEFAULTS.maxTokens,
  };
  if (request.temperature !== undefined && request.temperature !== null) chat.temperature = request.temperature;
  if (request.top_p !== undefined && request.top_p !== null) chat.top_p = request.top_p;
  if (request.stop !== undefined && request.stop !== null) chat.stop = request.stop;
  if (request.presence_penalty !== undefined && request.presence_penalty !== null) chat.presence_penalty = request.presence_penalty;
  if (request.frequency_penalty !== undefined && request.frequency_penalty !== null) chat.frequency_penalty = request.frequency_penalty;
  if (request.seed !== undefined && request.seed !== null) chat.seed = request.seed;
  if (request.user !== undefined) chat.user = request.user;
  return chat;
}

/**
 * The one prompt of a request. Several prompts would be several upstream calls, each to
 * meter and log on its own, so the gateway takes one prompt per request.
 */
export function completionPrompt(request: CompletionRequest): string {
  const prompts = typeof request.prompt === 'string' ? [request.prompt] : request.prompt;
  if (prompts.length !== 1) {
    throw new SwitchyardError('invalid_request', 'Send one prompt per completion request.', { param: 'prompt' });
  }
  return prompts[0] as string;
}

/** A chat answer as a `text_completion` (the prompt echoed in front when asked). */
export function chatToCompletion(request: CompletionRequest, prompt: string, answer: ChatCompletion): TextCompletion {
  const choices = answer.choices.map((choice): CompletionChoice => {
    const text = choice.message.content ?? '';
    return { text: request.echo === true ? `${prompt}${text}` : text, index: choice.index, logprobs: null, finish_reason: choice.finish_reason ?? 'stop' };
  });
  return {
    id: `cmpl-${answer.id.replace(/^chatcmpl-/, '')}`,
    object: 'text_completion',
    created: answer.created,
    model: answer.model,
    choices,
    ...(answer.usage === undefined ? {} : { usage: answer.usage }),
  };
}

/** Maps a chat stream to legacy completion chunks (the echoed prompt first, when asked). */
export async function* chatStreamToCompletion(request: CompletionRequest, prompt: string, stream: AsyncIterable<ChatCompletionChunk>): AsyncGenerator<TextCompletion> {
  let echoed = request.echo !== true;
  for await (const chunk of stream) {
    const base = { id: `cmpl-${chunk.id.replace(/^chatcmpl-/, '')}`, object: 'text_completion' as const, created: chunk.created, model: chunk.model };
    if (!echoed) {
      echoed = true;
      yield { ...base, choices: [{ text: prompt, index: 0, logprobs: null, finish_reason: null }] };
    }
    const choice = chunk.choices[0];
    if (choice !== undefined) {
      const text = choice.delta.content ?? '';
      if (text.length > 0 || choice.finish_reason !== null) yield { ...base, choices: [{ text, index: 0, logprobs: null, finish_reason: choice.finish_reason }] };
    }
    if (chunk.usage !== undefined && chunk.usage !== null) yield { ...base, choices: [], usage: chunk.usage };
  }
}
