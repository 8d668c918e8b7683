/**
 * Request headers that carry a client key or a provider key: the gateway's own, and those of
 * every provider the universal proxy meters (a test checks each meter's provider is listed
 * with its auth headers). Lower case, as Node gives header names; matched in any case.
 */
export const SECRET_HEADERS = [
  'authorization',
  'proxy-authorization',
  'x-switchyard-key',
  'cookie',
  // Anthropic; Azure OpenAI, Pinecone, Qdrant and MongoDB Atlas's Data API
  'x-api-key',
  'api-key',
  // Gemini API and Vertex AI express mode
  'x-goog-api-key',
  // AWS temporary credentials (Bedrock, Polly, Rekognition, Transcribe sign with `authorization`)
  'x-amz-security-token',
  // ElevenLabs
  'xi-api-key',
  // Azure AI services (Speech, and Azure OpenAI on `*.cognitiveservices.azure.com`)
  'ocp-apim-subscription-key',
  // Algolia
  'x-algolia-api-key',
  // Chroma
  'x-chroma-token',
  // MongoDB Atlas Data API (its `apiKey` and `password` headers are secret fields below)
  'jwttokenstring',
  // the keys Weaviate passes on to the model providers of its vectorizer and generative modules
  'x-openai-api-key',
  'x-azure-api-key',
  'x-anthropic-api-key',
  'x-anyscale-api-key',
  'x-cohere-api-key',
  'x-huggingface-api-key',
  'x-jinaai-api-key',
  'x-mistral-api-key',
  'x-nvidia-api-key',
  'x-voyage-api-key',
  'x-voyageai-api-key',
  'x-xai-api-key',
  'x-goog-studio-api-key',
  'x-goog-vertex-api-key',
  'x-palm-api-key',
  'x-databricks-token',
  'x-friendli-api-key',
  'x-friendli-token',
  'x-aws-access-key',
  'x-aws-secret-key',
  'x-weaviate-api-key',
] as const;

/** Object fields that hold a provider credential or a gateway secret, at any of the first depths. */
export const SECRET_FIELDS = [
  'apiKey',
  'api_key',
  'secretAccessKey',
  'sessionToken',
  'masterKey',
  'keySecret',
  'password',
] as const;

/** Fields (compared without letter case) holding a URL whose query is logged: a request's `url` as Fastify logs it. */
export const URL_FIELDS = ['url', 'originalUrl'] as const;

// `*` in a pino redact path matches exactly one level, so each secret is listed at the depths a
// logged object reaches: `{ err: { config: { headers } } }`, `{ config: { providers: [{ apiKey }] } }`
const PREFIXES = ['', '*.', '*.*.', '*.*.*.'] as const;

function headerPaths(): string[] {
  return SECRET_HEADERS.flatMap((name) =>
    PREFIXES.slice(0, 3).map((prefix) => `${prefix}headers["${name}"]`),
  );
}

function fieldPaths(): string[] {
  return SECRET_FIELDS.flatMap((field) => PREFIXES.map((prefix) => `${prefix}${field}`));
}

/**
 * The paths `createLogger()` redacts, in pino's `redact.paths` syntax: client-key and
 * provider-key headers wherever a request's or an error's headers are logged (`req.headers`,
 * `err.headers`, `err.request.headers`), provider credentials in config objects (`*.apiKey`,
 * `*.secretAccessKey`), static client keys (`keys[].key`) and the universal proxy's provider
 * keys (`providerKeys.<name>.value`). Add them to a pino logger of your own when embedding.
 */
export const LOG_REDACT_PATHS: readonly string[] = Object.freeze([
  ...headerPaths(),
  ...fieldPaths(),
  'keys[*].key',
  '*.keys[*].key',
  'providerKeys.*.value',
  '*.providerKeys.*.value',
  '*.*.providerKeys.*.value',
]);

/** What redacted values are replaced with. */
export const LOG_REDACT_CENSOR = '[redacted]';
