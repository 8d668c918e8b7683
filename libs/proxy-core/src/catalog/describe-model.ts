import type { ModelEntry } from '../wire/openai-embeddings';
import type { ModelInfo } from './model-catalog';

/** A `/v1/models` entry enriched with what a model catalog knows about the model. */
export function describeModel(entry: ModelEntry, info: ModelInfo): ModelEntry {
  return {
    ...entry,
    context_window: info.contextWindow,
    max_output_tokens: info.maxOutputTokens,
    input_modalities: info.inputModalities,
    output_modalities: info.outputModalities,
    supports_tools: info.supportsTools,
    ...(info.pricing === undefined
      ? {}
      : {
          pricing: {
            input_per_mtok_usd: info.pricing.inputPerMTokUsd,
            output_per_mtok_usd: info.pricing.outputPerMTokUsd,
            ...(info.pricing.cachedInputPerMTokUsd === undefined
              ? {}
              : { cached_input_per_mtok_usd: info.pricing.cachedInputPerMTokUsd }),
          },
        }),
  };
}
