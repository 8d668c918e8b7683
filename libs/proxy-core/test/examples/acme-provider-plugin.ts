import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import {
  contentText,
  mapUpstreamStream,
  PROVIDER_CONTRACT_VERSION,
  readJsonBody,
  readNdjson,
  SwitchyardError,
  upstreamRequest,
  upstreamServerOf,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type GatewayPlugin,
  type ProviderAdapter,
  type ProviderCallContext,
  type ProviderConfigBase,
  type ProviderFactory,
  type ProviderKit,
  type StreamMapper,
  type UpstreamServer,
} from '@switchyard/proxy-core';

// Acme's API: POST /generate {model, prompt, stream} -> {text, input_tokens, output_tokens},
// or NDJSON lines {text} ... {done: true, input_tokens, output_tokens} when streaming.

/** Options of the `acme` provider, validated by the gateway at start-up. */
export const AcmeOptionsSchema = Type.Object(
  { baseUrl: Type.String({ pattern: '^https?://' }), apiKey: Type.String({ minLength: 1 }) },
  { additionalProperties: false },
);
export type AcmeOptions = Static<typeof AcmeOptionsSchema>;

interface AcmeLine {
  text?: string;
  done?: boolean;
  input_tokens?: number;
  output_tokens?: number;
}

const usageOf = (line: AcmeLine) => ({
  prompt_tokens: line.input_tokens ?? 0,
  completion_tokens: line.output_tokens ?? 0,
  total_tokens: (line.input_tokens ?? 0) + (line.output_tokens ?? 0),
});

/** One mapper per stream: NDJSON lines -> OpenAI chunks. */
class AcmeStreamMapper implements StreamMapper<unknown> {
  done = false;
  constructor(
    private readonly id: string,
    private readonly model: string,
  ) {}

  map(value: unknown): ChatCompletionChunk[] {
    const line = value as AcmeLine;
    const base = {
      id: this.id,
      object: 'chat.completion.chunk' as const,
      created: Math.floor(Date.now() / 1000),
      model: this.model,
    };
    if (line.done === true) {
      this.done = true;
      return [
        { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
        { ...base, choices: [], usage: usageOf(line) },
      ];
    }
    return [{ ...base, choices: [{ index: 0, delta: { content: line.text ?? '' }, finish_reason: null }] }];
  }

  end(): ChatCompletionChunk[] {
    if (!this.done)
      throw new SwitchyardError('upstream_stream_error', 'Acme closed the stream before it finished.', {
        provider: 'acme',
      });
    return [];
  }
}

class AcmeAdapter implements ProviderAdapter {
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly name: string;
  readonly type = 'acme';
  // server.address / server.port of the attempt spans, parsed once
  readonly server: UpstreamServer;

  constructor(
    private readonly options: AcmeOptions & ProviderConfigBase,
    private readonly kit: ProviderKit,
  ) {
    this.name = options.name;
    this.server = upstreamServerOf(options.baseUrl);
  }

  async chat(request: ChatCompletionRequest, context: ProviderCallContext): Promise<ChatCompletion> {
    const response = await this.#post(request, context, false);
    const body = await readJsonBody<AcmeLine>(response, this.name, context.signal);
    return {
      id: `chatcmpl-${randomUUID()}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: context.model,
      choices: [
        { index: 0, message: { role: 'assistant', content: body.text ?? '' }, finish_reason: 'stop' },
      ],
      usage: usageOf(body),
    };
  }

  async stream(
    request: ChatCompletionRequest,
    context: ProviderCallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    const response = await this.#post(request, context, true);
    return mapUpstreamStream(
      response,
      this.name,
      context.signal,
      readNdjson,
      new AcmeStreamMapper(`chatcmpl-${randomUUID()}`, context.model),
    );
  }

  #post(request: ChatCompletionRequest, context: ProviderCallContext, stream: boolean) {
    const prompt = request.messages
      .map((message) => `${message.role}: ${contentText(message.content as string)}`)
      .join('\n');
    return upstreamRequest({
      provider: this.name,
      url: `${this.options.baseUrl}/generate`,
      headers: { ...context.headers, authorization: `Bearer ${this.options.apiKey}` },
      json: { model: context.model, prompt, stream },
      signal: context.signal,
      dispatcher: this.kit.dispatcher,
    });
  }
}

/** The factory the plugin registers: `type: 'acme'` in a provider entry selects it. */
export const acmeProvider: ProviderFactory<AcmeOptions> = {
  type: 'acme',
  optionsSchema: AcmeOptionsSchema,
  create: (options, kit) => new AcmeAdapter(options, kit),
};

/** The plugin: pass it in `createGateway({ plugins: [acmePlugin] })`. */
export const acmePlugin: GatewayPlugin = {
  name: 'acme-provider',
  apply(hooks) {
    hooks.registerProviders.tap('acme-provider', (registry) => registry.register(acmeProvider));
  },
};
