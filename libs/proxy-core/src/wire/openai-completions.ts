import { Type, type Static } from '@sinclair/typebox';
import type { ChatFinishReason, ChatUsage } from './openai-chat';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Optional(Type.Union([schema, Type.Null()]));

/**
 * The `POST /v1/completions` (legacy) body the gateway accepts: one text prompt per request
 * (several prompts would be several upstream calls, each to meter and log on its own).
 * @see https://platform.openai.com/docs/api-reference/completions/create
 */
export const CompletionRequestSchema = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 256 }),
    prompt: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1, maxItems: 1 })]),
    suffix: Nullable(Type.String()),
    max_tokens: Nullable(Type.Integer({ minimum: 1 })),
    temperature: Nullable(Type.Number({ minimum: 0, maximum: 2 })),
    top_p: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
    n: Nullable(Type.Integer({ minimum: 1, maximum: 128 })),
    best_of: Nullable(Type.Integer({ minimum: 1, maximum: 20 })),
    logprobs: Nullable(Type.Integer({ minimum: 0, maximum: 5 })),
    echo: Nullable(Type.Boolean()),
    stream: Nullable(Type.Boolean()),
    stream_options: Nullable(Type.Object({ include_usage: Type.Optional(Type.Boolean()) })),
    stop: Nullable(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 })])),
    presence_penalty: Nullable(Type.Number({ minimum: -2, maximum: 2 })),
    frequency_penalty: Nullable(Type.Number({ minimum: -2, maximum: 2 })),
    logit_bias: Nullable(Type.Record(Type.String(), Type.Number())),
    seed: Nullable(Type.Integer()),
    user: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** A legacy completions request (see {@link CompletionRequestSchema}). */
export type CompletionRequest = Static<typeof CompletionRequestSchema>;

/** The token log probabilities of one `text_completion` choice, as OpenAI reports them. */
export interface CompletionLogprobs {
  tokens?: string[];
  token_logprobs?: Array<number | null>;
  top_logprobs?: Array<Record<string, number> | null>;
  text_offset?: number[];
}

/** One choice of a `text_completion`. */
export interface TextCompletionChoice {
  text: string;
  index: number;
  logprobs: CompletionLogprobs | null;
  finish_reason: ChatFinishReason | null;
}

/** A `text_completion` body, or one chunk of a streamed one. */
export interface TextCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: TextCompletionChoice[];
  usage?: ChatUsage | null;
  system_fingerprint?: string | null;
}
