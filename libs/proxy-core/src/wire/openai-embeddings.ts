/**
 * OpenAI Embeddings wire types.
 * @see https://platform.openai.com/docs/api-reference/embeddings
 */

/** A `POST /v1/embeddings` request body. */
export interface EmbeddingRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  [extra: string]: unknown;
}

/** One embedding vector (or its base64 form when `encoding_format: base64`). */
export interface Embedding {
  object: 'embedding';
  index: number;
  embedding: number[] | string;
}

/** A `POST /v1/embeddings` response body. */
export interface EmbeddingResponse {
  object: 'list';
  data: Embedding[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** One entry of `GET /v1/models`; the facts after `owned_by` are present when a model catalog knows the model. */
export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  /** Context window in tokens. */
  context_window?: number;
  /** Largest completion in tokens. */
  max_output_tokens?: number;
  input_modalities?: readonly string[];
  output_modalities?: readonly string[];
  supports_tools?: boolean;
  /** Reference prices in USD per million tokens. */
  pricing?: { input_per_mtok_usd: number; output_per_mtok_usd: number; cached_input_per_mtok_usd?: number };
}

/** A `GET /v1/models` response body. */
export interface ModelList {
  object: 'list';
  data: ModelEntry[];
}
