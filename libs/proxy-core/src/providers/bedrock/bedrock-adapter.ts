import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { SwitchyardError } from '../../errors/switchyard-error';
import { readJsonBody, upstreamRequest, type UpstreamResponse } from '../../http/upstream-request';
import { mapUpstreamStream } from '../../stream/map-upstream-stream';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../../wire/openai-chat';
import {
  PROVIDER_CONTRACT_VERSION,
  type ProviderAdapter,
  type ProviderCallContext,
  type ProviderConfigBase,
  type ProviderFactory,
  type ProviderKit,
} from '../provider-adapter';
import { readBedrockError } from './bedrock-error';
import { fromBedrockResponse } from './from-bedrock-response';
import { BedrockStreamMapper } from './from-bedrock-stream';
import { readBedrockEventStream } from './read-bedrock-event-stream';
import { BedrockRequestSigner } from './sign-bedrock-request';
import { toBedrockRequest } from './to-bedrock-request';

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
} as const;

type Auth = { kind: 'sigv4'; signer: BedrockRequestSigner } | { kind: 'bearer'; header: string };

function auth(options: BedrockProviderOptions & ProviderConfigBase): Auth {
  const keys = options.accessKeyId !== undefined || options.secretAccessKey !== undefined || options.sessionToken !== undefined;
  // the gateway's problem-list shape, so config loading reports it like a schema problem
  const problem = (text: string): SwitchyardError => new SwitchyardError('invalid_options', `Invalid provider options:\n- provider "${options.name}" (bedrock): ${text}`);
  if (options.apiKey !== undefined) {
    if (keys) throw problem('give either apiKey or accessKeyId/secretAccessKey, not both.');
    return { kind: 'bearer', header: `Bearer ${options.apiKey}` };
  }
  if (options.accessKeyId === undefined || options.secretAccessKey === undefined) {
    throw problem('credentials are missing: give accessKeyId and secretAccessKey (and sessionToken for temporary credentials), or a Bedrock apiKey.');
  }
  const credentials = { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }) };
  return { kind: 'sigv4', signer: new BedrockRequestSigner(credentials, options.region) };
}

/**
 * The adapter for Amazon Bedrock's Converse and ConverseStream APIs: one request shape for
 * every model on Bedrock (Anthropic Claude, Meta Llama, ...), signed with AWS SigV4 or
 * sent with a Bedrock API key; streams are AWS binary event streams.
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference.html
 */
export class BedrockAdapter implements ProviderAdapter {
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly type: string;
  readonly name: string;
  readonly #baseUrl: string;
  readonly #headers: Record<string, string>;
  readonly #auth: Auth;
  readonly #kit: ProviderKit;

  constructor(options: BedrockProviderOptions & ProviderConfigBase, kit: ProviderKit) {
    this.name = options.name;
    this.type = options.type;
    this.#baseUrl = (options.baseUrl ?? BEDROCK_DEFAULTS.baseUrl(options.region)).replace(/\/+$/, '');
    this.#headers = { ...(options.headers ?? {}) };
    this.#auth = auth(options);
    this.#kit = kit;
  }

  async chat(request: ChatCompletionRequest, context: ProviderCallContext): Promise<ChatCompletion> {
    const response = await this.#post('converse', toBedrockRequest(request), context, 'application/json');
    const body = await readJsonBody<unknown>(response, this.name, context.signal);
    return fromBedrockResponse(body, { provider: this.name, model: context.model, id: `chatcmpl-${randomUUID()}`, created: Math.floor(Date.now() / 1000) });
  }

  async stream(request: ChatCompletionRequest, context: ProviderCallContext): Promise<AsyncIterable<ChatCompletionChunk>> {
    const response = await this.#post('converse-stream', toBedrockRequest(request), context, 'application/vnd.amazon.eventstream');
    const mapper = new BedrockStreamMapper(this.name, context.model, `chatcmpl-${randomUUID()}`, Math.floor(Date.now() / 1000));
    return mapUpstreamStream(response, this.name, context.signal, (body) => readBedrockEventStream(body, this.name), mapper);
  }

  async #post(operation: 'converse' | 'converse-stream', json: unknown, context: ProviderCallContext, accept: string): Promise<UpstreamResponse> {
    // model ids and ARNs hold ':' and '/': one path segment, percent-encoded (SigV4 encodes it again)
    const url = new URL(`${this.#baseUrl}/model/${encodeURIComponent(context.model)}/${operation}`);
    const body = JSON.stringify(json);
    let headers: Record<string, string> = Object.assign({}, this.#headers, context.headers, { accept, 'content-type': 'application/json', 'x-request-id': context.requestId });
    if (this.#auth.kind === 'bearer') headers['authorization'] = this.#auth.header;
    else headers = await this.#auth.signer.sign(url, headers, body);
    return upstreamRequest({
      provider: this.name,
      url: url.href,
      headers,
      body,
      signal: context.signal,
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
