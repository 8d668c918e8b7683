import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { SwitchyardError } from '../../errors/switchyard-error';
import { readJsonBody, upstreamRequest, type UpstreamResponse } from '../../http/upstream-request';
import { upstreamServerOf, type UpstreamServer } from '../../http/upstream-server';
import { mapUpstreamStream } from '../../stream/map-upstream-stream';
import { embeddingTexts, toEmbedding } from '../../embeddings/embedding-encoding';
import { batchesOf } from '../../embeddings/embed-in-batches';
import { mapConcurrent } from '../../embeddings/map-concurrent';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../../wire/openai-chat';
import type { EmbeddingRequest, EmbeddingResponse } from '../../wire/openai-embeddings';
import {
  PROVIDER_CONTRACT_VERSION,
  type ProviderAdapter,
  type ProviderCallContext,
  type ProviderConfigBase,
  type ProviderFactory,
  type ProviderKit,
} from '../provider-adapter';
import { callCancellation } from '../provider-call-cancellation';
import { readBedrockError } from './bedrock-error';
import { fromBedrockResponse } from './from-bedrock-response';
import { BedrockStreamMapper } from './from-bedrock-stream';
import { readBedrockEventStream } from './read-bedrock-event-stream';
import { defaultCredentialChain } from './bedrock-credentials';
import {
  bedrockEmbeddingFamily,
  COHERE_BEDROCK_BATCH,
  cohereBedrockVectors,
  toCohereBedrockEmbeddingBody,
  toTitanEmbeddingBody,
  type CohereBedrockEmbeddingResponse,
  type TitanEmbeddingResponse,
} from './bedrock-embeddings';
import { BedrockRequestSigner } from './sign-bedrock-request';
import { toBedrockRequest } from './to-bedrock-request';
import { providerCallHeaders } from '../provider-call-options';

/** Options of the `bedrock` provider (Amazon Bedrock Runtime, Converse API). */
export const BedrockProviderOptionsSchema = Type.Object(
  {
    /** The AWS region of the Bedrock Runtime endpoint and of the signature (`us-east-1`). */
    region: Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$' }),
    /** Endpoint override (a VPC endpoint, a proxy, a test double). @default "https://bedrock-runtime.<region>.amazonaws.com" */
    baseUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** AWS access key id; requests are signed with SigV4. Give it with `secretAccessKey`, or give `apiKey`. */
    accessKeyId: Type.Optional(Type.String({ minLength: 1 })),
    /** AWS secret access key, never sent: it only derives signing keys. */
    secretAccessKey: Type.Optional(Type.String({ minLength: 1 })),
    /** Session token of temporary credentials (STS), sent as `x-amz-security-token`. */
    sessionToken: Type.Optional(Type.String({ minLength: 1 })),
    /** A Bedrock API key, sent as `Authorization: Bearer` instead of a signature. */
    apiKey: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * The shared config/credentials profile the AWS credential chain reads, when neither
     * access keys nor `apiKey` are given. @default `AWS_PROFILE`, else "default"
     */
    profile: Type.Optional(Type.String({ minLength: 1 })),
    /** `input_type` of Cohere Embed calls (required by Cohere's v3 models). @default "search_document" */
    embeddingInputType: Type.Optional(
      Type.Union([
        Type.Literal('search_document'),
        Type.Literal('search_query'),
        Type.Literal('classification'),
        Type.Literal('clustering'),
      ]),
    ),
    /** Titan embeds one text per call: how many calls one embeddings request may have in flight. @default 4 */
    embedConcurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 32 })),
    /**
     * Titan embeds one text per call: the most inputs one embeddings request may carry, since
     * limiters count the request once however many InvokeModel calls it fans out to. @default 128
     */
    titanMaxInputs: Type.Optional(Type.Integer({ minimum: 1, maximum: 2048 })),
    /** Extra static headers for every upstream call (signed with the rest). */
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

/** Options of the `bedrock` provider (see {@link BedrockProviderOptionsSchema}). */
export type BedrockProviderOptions = Static<typeof BedrockProviderOptionsSchema>;

/** Defaults of {@link BedrockProviderOptions}. */
export const BEDROCK_DEFAULTS = {
  /** The Bedrock Runtime endpoint of a region. */
  baseUrl: (region: string): string => `https://bedrock-runtime.${region}.amazonaws.com`,
  embeddingInputType: 'search_document',
  embedConcurrency: 4,
  titanMaxInputs: 128,
} as const;

type Auth = { kind: 'sigv4'; signer: BedrockRequestSigner } | { kind: 'bearer'; header: string };

function auth(options: BedrockProviderOptions & ProviderConfigBase): Auth {
  const keys =
    options.accessKeyId !== undefined ||
    options.secretAccessKey !== undefined ||
    options.sessionToken !== undefined;
  // the gateway's problem-list shape, so config loading reports it like a schema problem
  const problem = (text: string): SwitchyardError =>
    new SwitchyardError(
      'invalid_options',
      `Invalid provider options:\n- provider "${options.name}" (bedrock): ${text}`,
    );
  if (options.apiKey !== undefined) {
    if (keys || options.profile !== undefined)
      throw problem('give either apiKey, or accessKeyId/secretAccessKey, or a profile, not several.');
    return { kind: 'bearer', header: `Bearer ${options.apiKey}` };
  }
  if (!keys) {
    // no static credentials: the AWS SDK's default chain (env, profiles, SSO, web identity, ECS, IMDS)
    const chain = defaultCredentialChain({
      provider: options.name,
      ...(options.profile === undefined ? {} : { profile: options.profile }),
    });
    return { kind: 'sigv4', signer: new BedrockRequestSigner(chain, options.region) };
  }
  if (options.profile !== undefined)
    throw problem('give either accessKeyId/secretAccessKey or a profile, not both.');
  if (options.accessKeyId === undefined || options.secretAccessKey === undefined) {
    throw problem(
      'give accessKeyId and secretAccessKey together (and sessionToken for temporary credentials).',
    );
  }
  const credentials = {
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
  };
  return { kind: 'sigv4', signer: new BedrockRequestSigner(credentials, options.region) };
}

/**
 * The adapter for Amazon Bedrock's Converse and ConverseStream APIs: one request shape for
 * every model on Bedrock (Anthropic Claude, Meta Llama, ...), signed with AWS SigV4 (static
 * keys or the AWS credential chain) or sent with a Bedrock API key; streams are AWS binary
 * event streams. Embeddings go through InvokeModel (Titan Text Embeddings, Cohere Embed).
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference.html
 */
export class BedrockAdapter implements ProviderAdapter {
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly type: string;
  readonly name: string;
  readonly server: UpstreamServer;
  readonly #baseUrl: string;
  readonly #headers: Record<string, string>;
  readonly #auth: Auth;
  readonly #kit: ProviderKit;
  readonly #embeddingInputType: string;
  readonly #embedConcurrency: number;
  readonly #titanMaxInputs: number;

  constructor(options: BedrockProviderOptions & ProviderConfigBase, kit: ProviderKit) {
    this.name = options.name;
    this.type = options.type;
    this.#baseUrl = (options.baseUrl ?? BEDROCK_DEFAULTS.baseUrl(options.region)).replace(/\/+$/, '');
    this.server = upstreamServerOf(this.#baseUrl, this.name);
    this.#headers = { ...(options.headers ?? {}) };
    this.#auth = auth(options);
    this.#kit = kit;
    this.#embeddingInputType = options.embeddingInputType ?? BEDROCK_DEFAULTS.embeddingInputType;
    this.#embedConcurrency = options.embedConcurrency ?? BEDROCK_DEFAULTS.embedConcurrency;
    this.#titanMaxInputs = options.titanMaxInputs ?? BEDROCK_DEFAULTS.titanMaxInputs;
  }

  async chat(request: ChatCompletionRequest, context: ProviderCallContext): Promise<ChatCompletion> {
    const response = await this.#post(
      'converse',
      toBedrockRequest(request, context.model),
      context,
      'application/json',
    );
    const body = await readJsonBody<unknown>(response, this.name, callCancellation(context));
    return fromBedrockResponse(body, {
      provider: this.name,
      model: context.model,
      id: `chatcmpl-${randomUUID()}`,
      created: Math.floor(Date.now() / 1000),
    });
  }

  async stream(
    request: ChatCompletionRequest,
    context: ProviderCallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    const response = await this.#post(
      'converse-stream',
      toBedrockRequest(request, context.model),
      context,
      'application/vnd.amazon.eventstream',
    );
    const mapper = new BedrockStreamMapper(
      this.name,
      context.model,
      `chatcmpl-${randomUUID()}`,
      Math.floor(Date.now() / 1000),
    );
    return mapUpstreamStream(
      response,
      this.name,
      callCancellation(context),
      (body) => readBedrockEventStream(body, this.name),
      mapper,
    );
  }

  /**
   * Embeddings through InvokeModel: Amazon Titan Text Embeddings (one text per call, calls
   * in parallel up to `embedConcurrency`) and Cohere Embed (batches of 96). Vectors come
   * back as floats, base64-encoded here when asked.
   * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html
   */
  async embed(request: EmbeddingRequest, context: ProviderCallContext): Promise<EmbeddingResponse> {
    const family = bedrockEmbeddingFamily(context.model, this.name);
    const texts = embeddingTexts(request, this.name);
    let vectors: number[][];
    let tokens = 0;
    if (family === 'titan') {
      if (texts.length > this.#titanMaxInputs) {
        // another target of the route (one that batches) may still take it
        throw new SwitchyardError(
          'unsupported_feature',
          `Provider "${this.name}" embeds with Titan one input per call and takes at most ${this.#titanMaxInputs} inputs per request (titanMaxInputs); this request has ${texts.length}.`,
          {
            provider: this.name,
            param: 'input',
            beforeSending: true,
          },
        );
      }
      const bodies = texts.map((text) => toTitanEmbeddingBody(text, context.model, request));
      const answers = await mapConcurrent(
        bodies,
        this.#embedConcurrency,
        context.signal,
        async (body, _index, signal) => {
          const response = await this.#post('invoke', body, { ...context, signal }, 'application/json');
          return readJsonBody<TitanEmbeddingResponse>(response, this.name, signal);
        },
      );
      vectors = answers.map((answer) => {
        if (!Array.isArray(answer.embedding))
          throw new SwitchyardError(
            'upstream_error',
            `Provider "${this.name}" sent a Titan response without an embedding.`,
            { provider: this.name },
          );
        tokens += answer.inputTextTokenCount ?? 0;
        return answer.embedding;
      });
    } else {
      const bodies = batchesOf(texts, COHERE_BEDROCK_BATCH).map((batch) =>
        toCohereBedrockEmbeddingBody(batch, this.#embeddingInputType, request),
      );
      const answers = await mapConcurrent(
        bodies,
        this.#embedConcurrency,
        context.signal,
        async (body, _index, signal) => {
          const response = await this.#post('invoke', body, { ...context, signal }, 'application/json');
          // Cohere's body carries no token count; Bedrock reports it in a header
          const counted = Number(response.headers['x-amzn-bedrock-input-token-count'] ?? 0);
          tokens += Number.isFinite(counted) ? counted : 0;
          return cohereBedrockVectors(
            await readJsonBody<CohereBedrockEmbeddingResponse>(response, this.name, signal),
            this.name,
          );
        },
      );
      vectors = answers.flat();
    }
    return {
      object: 'list',
      data: vectors.map((values, index) => toEmbedding(values, index, request.encoding_format)),
      model: context.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }

  async #post(
    operation: 'converse' | 'converse-stream' | 'invoke',
    json: unknown,
    context: ProviderCallContext,
    accept: string,
  ): Promise<UpstreamResponse> {
    // model ids and ARNs hold ':' and '/': one path segment, percent-encoded (SigV4 encodes it again)
    const url = new URL(`${this.#baseUrl}/model/${encodeURIComponent(context.model)}/${operation}`);
    const body = JSON.stringify(json);
    let headers = providerCallHeaders(this.#headers, context, accept);
    headers['content-type'] = 'application/json';
    if (this.#auth.kind === 'bearer') headers['authorization'] = this.#auth.header;
    else headers = await this.#auth.signer.sign(url, headers, body);
    return upstreamRequest({
      provider: this.name,
      url: url.href,
      headers,
      body,
      signal: callCancellation(context),
      dispatcher: this.#kit.dispatcher,
      readError: readBedrockError,
    });
  }
}

/** The `bedrock` provider type: Amazon Bedrock Converse / ConverseStream. */
export const bedrockProvider: ProviderFactory<BedrockProviderOptions> = {
  type: 'bedrock',
  optionsSchema: BedrockProviderOptionsSchema,
  create: (options, kit) => new BedrockAdapter(options, kit),
};
