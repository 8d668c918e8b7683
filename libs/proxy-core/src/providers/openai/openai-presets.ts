import type { ProviderFactory } from '../provider-adapter';
import { OpenAIAdapter, OpenAIProviderOptionsSchema, type OpenAIProviderOptions } from './openai-adapter';
import type { ToolCallIdFormat } from './openai-tool-call-id';

/** The defaults an OpenAI-compatible host needs: where it lives and what it rejects. */
export interface OpenAIPreset {
  /** The provider `type` that selects the preset in configuration. */
  readonly type: string;
  /** The host's base URL, up to and including its version segment. */
  readonly baseUrl: string;
  /** Request fields the host rejects, removed before sending (`n` above 1 is refused instead). */
  readonly unsupportedParams?: readonly string[];
  /** Request fields the host names differently. */
  readonly renameParams?: Readonly<Record<string, string>>;
  /** The tool-call ids the host accepts, when not OpenAI's (see `toolCallIdFormat`). */
  readonly toolCallIdFormat?: ToolCallIdFormat;
  /** A page that documents the host's OpenAI compatibility. */
  readonly reference: string;
}

/**
 * The built-in OpenAI-compatible presets. Every preset authenticates with
 * `Authorization: Bearer <apiKey>` (local servers need no key); user options override
 * every default, `unsupportedParams` and `renameParams` included.
 */
export const OPENAI_PRESETS = [
  {
    type: 'groq',
    baseUrl: 'https://api.groq.com/openai/v1',
    // Groq documents these as unsupported and answers 400 when they are present
    unsupportedParams: ['logprobs', 'top_logprobs', 'logit_bias'],
    reference: 'https://console.groq.com/docs/openai',
  },
  {
    type: 'mistral',
    baseUrl: 'https://api.mistral.ai/v1',
    // Mistral answers 422 "Extra inputs are not permitted" to any field its API does not list:
    // it takes no stream_options (a stream's last chunk carries the usage unasked) and names
    // OpenAI's max_completion_tokens max_tokens
    unsupportedParams: [
      'logit_bias',
      'user',
      'logprobs',
      'top_logprobs',
      'store',
      'metadata',
      'stream_options',
    ],
    renameParams: {
      seed: 'random_seed',
      dimensions: 'output_dimension',
      max_completion_tokens: 'max_tokens',
    },
    // its API refuses any other tool-call id with a 400 ("must be a-z, A-Z, 0-9, with a length of 9")
    toolCallIdFormat: 'mistral',
    reference: 'https://docs.mistral.ai/api/',
  },
  {
    type: 'together',
    baseUrl: 'https://api.together.xyz/v1',
    reference: 'https://docs.together.ai/docs/openai-api-compatibility',
  },
  {
    type: 'deepseek',
    baseUrl: 'https://api.deepseek.com/v1',
    unsupportedParams: ['logit_bias', 'n', 'seed', 'user', 'store', 'metadata'],
    reference: 'https://api-docs.deepseek.com/api/create-chat-completion',
  },
  {
    type: 'openrouter',
    baseUrl: 'https://openrouter.ai/api/v1',
    reference: 'https://openrouter.ai/docs/api-reference/overview',
  },
  {
    type: 'fireworks',
    baseUrl: 'https://api.fireworks.ai/inference/v1',
    unsupportedParams: ['store', 'metadata'],
    reference: 'https://docs.fireworks.ai/tools-sdks/openai-compatibility',
  },
  { type: 'xai', baseUrl: 'https://api.x.ai/v1', reference: 'https://docs.x.ai/docs/api-reference' },
  {
    type: 'perplexity',
    // Perplexity serves /chat/completions at the root, without a version segment
    baseUrl: 'https://api.perplexity.ai',
    unsupportedParams: [
      'logit_bias',
      'logprobs',
      'top_logprobs',
      'n',
      'seed',
      'user',
      'store',
      'metadata',
      'parallel_tool_calls',
    ],
    reference: 'https://docs.perplexity.ai/api-reference/chat-completions-post',
  },
  {
    type: 'vllm',
    baseUrl: 'http://127.0.0.1:8000/v1',
    reference: 'https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html',
  },
  {
    type: 'lmstudio',
    baseUrl: 'http://127.0.0.1:1234/v1',
    unsupportedParams: ['store', 'metadata'],
    reference: 'https://lmstudio.ai/docs/app/api/endpoints/openai',
  },
  {
    type: 'voyage',
    baseUrl: 'https://api.voyageai.com/v1',
    // Voyage is embeddings only; it calls the output size `output_dimension`
    unsupportedParams: ['user'],
    renameParams: { dimensions: 'output_dimension' },
    reference: 'https://docs.voyageai.com/reference/embeddings-api',
  },
] as const satisfies readonly OpenAIPreset[];

/** The `type` values of the built-in presets. */
export type OpenAIPresetType = (typeof OPENAI_PRESETS)[number]['type'];

/** Builds the provider factory of one preset: the `openai` adapter with the preset's defaults under the user's options. */
export function openAIPresetProvider(preset: OpenAIPreset): ProviderFactory<OpenAIProviderOptions> {
  return {
    type: preset.type,
    optionsSchema: OpenAIProviderOptionsSchema,
    create: (options, kit) =>
      new OpenAIAdapter(
        {
          ...options,
          baseUrl: options.baseUrl ?? preset.baseUrl,
          unsupportedParams: options.unsupportedParams ?? [...(preset.unsupportedParams ?? [])],
          renameParams: options.renameParams ?? { ...(preset.renameParams ?? {}) },
          ...(preset.toolCallIdFormat === undefined || options.toolCallIdFormat !== undefined
            ? {}
            : { toolCallIdFormat: preset.toolCallIdFormat }),
        },
        kit,
      ),
  };
}

/** One factory per built-in preset, registered by the built-in providers plugin. */
export const openAIPresetProviders: readonly ProviderFactory<OpenAIProviderOptions>[] =
  OPENAI_PRESETS.map(openAIPresetProvider);
