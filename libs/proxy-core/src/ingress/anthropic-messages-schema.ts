import { Type } from '@sinclair/typebox';

const CacheControl = Type.Optional(
  Type.Union([Type.Object({ type: Type.String() }, { additionalProperties: true }), Type.Null()]),
);

const TextBlock = Type.Object(
  { type: Type.Literal('text'), text: Type.String(), cache_control: CacheControl },
  { additionalProperties: true },
);

/** Any request content block: `type` is checked here, the rest by the translator (which names the field it refuses). */
const ContentBlock = Type.Object({ type: Type.String({ minLength: 1 }) }, { additionalProperties: true });

const Message = Type.Object(
  {
    role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
    content: Type.Union([Type.String(), Type.Array(ContentBlock)]),
  },
  { additionalProperties: true },
);

const Tool = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    description: Type.Optional(Type.String()),
    input_schema: Type.Optional(Type.Object({}, { additionalProperties: true })),
    type: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

const ToolChoice = Type.Union([
  Type.Object(
    {
      type: Type.Union([Type.Literal('auto'), Type.Literal('any')]),
      disable_parallel_tool_use: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: true },
  ),
  Type.Object({ type: Type.Literal('none') }, { additionalProperties: true }),
  Type.Object(
    {
      type: Type.Literal('tool'),
      name: Type.String({ minLength: 1 }),
      disable_parallel_tool_use: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: true },
  ),
]);

/**
 * The JSON Schema of an Anthropic `POST /v1/messages` body: strict on what the gateway reads
 * (`max_tokens` is required, as Anthropic requires it), open to fields it ignores
 * (`anthropic-beta` features, `thinking`, `service_tier`).
 * @see https://docs.anthropic.com/en/api/messages
 */
export const AnthropicMessagesRequestSchema = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 256 }),
    messages: Type.Array(Message, { minItems: 1 }),
    max_tokens: Type.Integer({ minimum: 1 }),
    system: Type.Optional(Type.Union([Type.String(), Type.Array(TextBlock)])),
    stop_sequences: Type.Optional(Type.Array(Type.String())),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    top_k: Type.Optional(Type.Integer({ minimum: 0 })),
    stream: Type.Optional(Type.Boolean()),
    tools: Type.Optional(Type.Array(Tool)),
    tool_choice: Type.Optional(ToolChoice),
    metadata: Type.Optional(
      Type.Object(
        { user_id: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])) },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);
