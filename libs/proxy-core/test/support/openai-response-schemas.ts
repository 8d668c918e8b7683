import { Type, type TSchema } from '@sinclair/typebox';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const FinishReason = Type.Union(
  ['stop', 'length', 'tool_calls', 'content_filter', 'function_call'].map((r) => Type.Literal(r)),
);

/** OpenAI usage, with cached and reasoning details when present. */
export const UsageSchema = Type.Object({
  prompt_tokens: Type.Integer({ minimum: 0 }),
  completion_tokens: Type.Integer({ minimum: 0 }),
  total_tokens: Type.Integer({ minimum: 0 }),
  prompt_tokens_details: Type.Optional(
    Type.Object({ cached_tokens: Type.Optional(Type.Integer({ minimum: 0 })) }),
  ),
  completion_tokens_details: Type.Optional(
    Type.Object({ reasoning_tokens: Type.Optional(Type.Integer({ minimum: 0 })) }),
  ),
});

const ToolCallSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  type: Type.Literal('function'),
  function: Type.Object({ name: Type.String({ minLength: 1 }), arguments: Type.String() }),
});

/**
 * The `chat.completion` shape OpenAI's API reference documents (the fields clients read).
 * @see https://platform.openai.com/docs/api-reference/chat/object
 */
export const ChatCompletionSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  object: Type.Literal('chat.completion'),
  created: Type.Integer({ minimum: 0 }),
  model: Type.String({ minLength: 1 }),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer({ minimum: 0 }),
      message: Type.Object({
        role: Type.Literal('assistant'),
        content: Nullable(Type.String()),
        tool_calls: Type.Optional(Type.Array(ToolCallSchema, { minItems: 1 })),
      }),
      finish_reason: FinishReason,
    }),
    { minItems: 1 },
  ),
  usage: Type.Optional(UsageSchema),
});

/**
 * The `chat.completion.chunk` shape.
 * @see https://platform.openai.com/docs/api-reference/chat/streaming
 */
export const ChatCompletionChunkSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  object: Type.Literal('chat.completion.chunk'),
  created: Type.Integer({ minimum: 0 }),
  model: Type.String({ minLength: 1 }),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer({ minimum: 0 }),
      delta: Type.Object({
        role: Type.Optional(Type.Literal('assistant')),
        content: Type.Optional(Nullable(Type.String())),
        tool_calls: Type.Optional(
          Type.Array(
            Type.Object({
              index: Type.Integer({ minimum: 0 }),
              id: Type.Optional(Type.String({ minLength: 1 })),
              type: Type.Optional(Type.Literal('function')),
              function: Type.Optional(
                Type.Object({ name: Type.Optional(Type.String()), arguments: Type.Optional(Type.String()) }),
              ),
            }),
          ),
        ),
      }),
      finish_reason: Nullable(FinishReason),
    }),
  ),
  usage: Type.Optional(Nullable(UsageSchema)),
});
