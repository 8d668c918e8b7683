import { Type, type TProperties } from '@sinclair/typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Optional(Type.Union([schema, Type.Null()]));

/**
 * An object of one kind among several (`type: "function"`, `"custom"`): its `type` is checked
 * before its other members (an `allOf`, whose first failing member ends the check), so a union
 * of them fails an object of another kind on its `type`, which the HTTP layer reports as the
 * kinds allowed, rather than on the first kind's missing members.
 */
const Tagged = <T extends TProperties>(tag: string, properties: T) =>
  Type.Intersect([
    Type.Object({ type: Type.Literal(tag) }, { additionalProperties: true }),
    Type.Object(properties, { additionalProperties: true }),
  ]);

const ContentPart = Type.Object({ type: Type.String({ minLength: 1 }) }, { additionalProperties: true });

// OpenAI's tool calls: of a function (JSON arguments) or of a custom tool (GPT-5, free-form input)
const ToolCall = Type.Union([
  Tagged('function', {
    id: Type.String(),
    function: Type.Object({ name: Type.String(), arguments: Type.String() }),
  }),
  Tagged('custom', {
    id: Type.String(),
    custom: Type.Object({ name: Type.String(), input: Type.String() }),
  }),
]);

const Message = Type.Object(
  {
    role: Type.Union([
      Type.Literal('system'),
      Type.Literal('developer'),
      Type.Literal('user'),
      Type.Literal('assistant'),
      Type.Literal('tool'),
      // deprecated by OpenAI, still taken: the result of a legacy `function_call`, by `name`
      Type.Literal('function'),
    ]),
    content: Type.Optional(Type.Union([Type.String(), Type.Array(ContentPart), Type.Null()])),
    name: Type.Optional(Type.String()),
    tool_call_id: Type.Optional(Type.String()),
    tool_calls: Type.Optional(Type.Array(ToolCall)),
    // deprecated by OpenAI, still taken: an assistant's legacy call of one of `functions`
    function_call: Nullable(Type.Object({ name: Type.String(), arguments: Type.String() })),
  },
  { additionalProperties: true },
);

const Tool = Type.Union([
  Tagged('function', {
    function: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 64 }),
        description: Type.Optional(Type.String()),
        parameters: Type.Optional(Type.Object({}, { additionalProperties: true })),
      },
      { additionalProperties: true },
    ),
  }),
  Tagged('custom', {
    custom: Type.Object(
      {
        name: Type.String({ minLength: 1 }),
        description: Type.Optional(Type.String()),
        format: Type.Optional(Type.Object({ type: Type.String() }, { additionalProperties: true })),
      },
      { additionalProperties: true },
    ),
  }),
]);

// OpenAI's legacy function calling (`functions`, `function_call`), deprecated for `tools` and
// `tool_choice` but still taken: checked as its tool forms are, forwarded to OpenAI-wire upstreams
const LegacyFunction = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

const LegacyFunctionCall = Type.Union([
  Type.Literal('none'),
  Type.Literal('auto'),
  Type.Object({ name: Type.String() }, { additionalProperties: true }),
]);

// A tool named by `tool_choice`: a function, or a custom tool
const ToolReference = Type.Union([
  Tagged('function', { function: Type.Object({ name: Type.String() }) }),
  Tagged('custom', { custom: Type.Object({ name: Type.String() }) }),
]);

const ToolChoice = Type.Union([
  Type.Literal('none'),
  Type.Literal('auto'),
  Type.Literal('required'),
  ToolReference,
  Tagged('allowed_tools', {
    allowed_tools: Type.Object(
      {
        mode: Type.Union([Type.Literal('auto'), Type.Literal('required')]),
        tools: Type.Array(ToolReference),
      },
      { additionalProperties: true },
    ),
  }),
]);

// A `json_schema` format carries its schema in a `json_schema` object: OpenAI refuses one without
// it (400 "Missing required parameter: 'response_format.json_schema'"), and the translators that
// send the schema on (Gemini, Cohere, Ollama) read it, and its `schema`, an object (they check
// both too, for a request given to the engine directly: see `jsonSchemaOf`). Other formats pass
// as sent: hosts have their own (`grammar`, `regex`), which OpenAI-wire upstreams answer themselves.
const ResponseFormat = Type.Union([
  Type.Object(
    {
      type: Type.Literal('json_schema'),
      json_schema: Type.Object(
        { schema: Nullable(Type.Object({}, { additionalProperties: true })) },
        { additionalProperties: true },
      ),
    },
    { additionalProperties: true },
  ),
  Type.Not(Type.Object({ type: Type.Literal('json_schema') })),
]);

/** Most messages a chat completion request may carry (a 400 `invalid_request` beyond). */
export const MAX_CHAT_MESSAGES = 100_000;

/**
 * The JSON Schema of a chat completion request: strict on what the gateway reads, open to
 * fields it forwards. Used by the HTTP layer to validate bodies before any work.
 */
export const ChatCompletionRequestSchema = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 256 }),
    // OpenAI documents no cap on messages (it caps tools and tool_calls at 128), and the
    // context window bounds the rest: at least 4 tokens a message (3 of envelope, 1 of
    // content) puts 100 000 messages at 400k tokens, past every window but the 1M-2M ones,
    // where such a conversation is not a real one. The cap bounds the per-message work
    // (validation, counting, condensing) one request can ask for before any of it starts.
    messages: Type.Array(Message, { minItems: 1, maxItems: MAX_CHAT_MESSAGES }),
    stream: Nullable(Type.Boolean()),
    stream_options: Nullable(
      Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, { additionalProperties: true }),
    ),
    temperature: Nullable(Type.Number({ minimum: 0, maximum: 2 })),
    top_p: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
    n: Nullable(Type.Integer({ minimum: 1, maximum: 128 })),
    max_tokens: Nullable(Type.Integer({ minimum: 1 })),
    max_completion_tokens: Nullable(Type.Integer({ minimum: 1 })),
    stop: Nullable(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 })])),
    presence_penalty: Nullable(Type.Number({ minimum: -2, maximum: 2 })),
    frequency_penalty: Nullable(Type.Number({ minimum: -2, maximum: 2 })),
    seed: Nullable(Type.Integer()),
    user: Type.Optional(Type.String()),
    tools: Type.Optional(Type.Array(Tool)),
    tool_choice: Type.Optional(ToolChoice),
    functions: Nullable(Type.Array(LegacyFunction)),
    function_call: Nullable(LegacyFunctionCall),
    response_format: Nullable(ResponseFormat),
    // read by the providers that search (`gemini`); its fields are forwarded to OpenAI-wire hosts as sent
    web_search_options: Nullable(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

/**
 * Largest `dimensions` an embeddings request may ask for (a 400 `invalid_request` beyond).
 * OpenAI documents no bound in the request but its largest model gives 3072 (a larger value
 * is its 400), and the largest models OpenAI-compatible hosts serve give 4096: twice that
 * leaves room for the next, while a made-up size (130 000) is refused before any work.
 */
const MAX_EMBEDDING_DIMENSIONS = 8192;

/** The JSON Schema of an embeddings request. */
export const EmbeddingRequestSchema = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 256 }),
    input: Type.Union([
      Type.String(),
      Type.Array(Type.String(), { minItems: 1, maxItems: 2048 }),
      Type.Array(Type.Integer(), { minItems: 1 }),
      Type.Array(Type.Array(Type.Integer()), { minItems: 1, maxItems: 2048 }),
    ]),
    encoding_format: Type.Optional(Type.Union([Type.Literal('float'), Type.Literal('base64')])),
    dimensions: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EMBEDDING_DIMENSIONS })),
    user: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
