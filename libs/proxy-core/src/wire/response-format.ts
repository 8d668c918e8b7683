import { invalidRequest } from './chat-message-parts';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The JSON Schema a `json_schema` response format asks for (undefined when it gives none), for
 * the translators that send it on (Gemini, Cohere, Ollama). The HTTP schema refuses the
 * malformed ones; a request given to the engine directly is checked here, so it gets the same
 * 400 `invalid_request` rather than a crash: a `json_schema` that is not an object (OpenAI's 400
 * "Missing required parameter: 'response_format.json_schema'") names
 * `response_format.json_schema`, a `schema` that is not an object
 * `response_format.json_schema.schema`.
 * @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-response_format
 */
export function jsonSchemaOf(format: {
  readonly json_schema?: unknown;
}): Record<string, unknown> | undefined {
  const options = format.json_schema;
  if (!isObject(options))
    throw invalidRequest(
      'A "json_schema" response format needs a "json_schema" object: {"name", "schema", "strict"}.',
      'response_format.json_schema',
    );
  const schema = options['schema'];
  if (schema === undefined || schema === null) return undefined;
  if (!isObject(schema))
    throw invalidRequest(
      '"response_format.json_schema.schema" must be a JSON Schema object.',
      'response_format.json_schema.schema',
    );
  return schema;
}
