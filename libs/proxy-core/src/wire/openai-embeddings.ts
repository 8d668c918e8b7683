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

/** One entry of `GET /v1/models`. */
export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/** A `GET /v1/models` response body. */
export interface ModelList {
  object: 'list';
  data: ModelEntry[];
}
