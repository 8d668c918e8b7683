import { SwitchyardError } from '../../errors/switchyard-error';
import type { EmbeddingRequest } from '../../wire/openai-embeddings';

/** The embedding model families Bedrock's InvokeModel serves, by request and response shape. */
export type BedrockEmbeddingFamily = 'titan' | 'cohere';

/** The family of an embedding model id (inference-profile prefixes such as `us.` allowed). */
export function bedrockEmbeddingFamily(model: string, provider: string): BedrockEmbeddingFamily {
  if (/(^|\.)amazon\.titan-embed-text-/.test(model)) return 'titan';
  if (/(^|\.)cohere\.embed-/.test(model)) return 'cohere';
  throw new SwitchyardError(
    'unsupported_feature',
    `Provider "${provider}" embeds with Amazon Titan Text Embeddings and Cohere Embed models, not "${model}".`,
    {
      provider,
      param: 'model',
      beforeSending: true,
    },
  );
}

/** A Titan Text Embeddings response body. */
export interface TitanEmbeddingResponse {
  embedding?: number[];
  inputTextTokenCount?: number;
}

/** A Cohere Embed (on Bedrock) response body with float embeddings. */
export interface CohereBedrockEmbeddingResponse {
  embeddings?: number[][] | { float?: number[][] };
}

/**
 * One Titan Text Embeddings request body: Titan embeds one text per call. `dimensions` and
 * `normalize` exist from V2 on (V1 takes the text only).
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html
 */
export function toTitanEmbeddingBody(
  text: string,
  model: string,
  request: EmbeddingRequest,
): Record<string, unknown> {
  const body: Record<string, unknown> = { inputText: text };
  if (/titan-embed-text-v1/.test(model)) {
    if (request.dimensions !== undefined) {
      throw new SwitchyardError(
        'unsupported_feature',
        'Titan Text Embeddings V1 has a fixed size; "dimensions" needs V2.',
        { param: 'dimensions', beforeSending: true },
      );
    }
    return body;
  }
  if (request.dimensions !== undefined) body['dimensions'] = request.dimensions;
  // the OpenAI embeddings clients expect unit vectors; Titan's default, stated for clarity
  body['normalize'] = true;
  return body;
}

/**
 * One Cohere Embed request body (at most {@link COHERE_BEDROCK_BATCH} texts).
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html
 */
export function toCohereBedrockEmbeddingBody(
  texts: readonly string[],
  inputType: string,
  request: EmbeddingRequest,
): Record<string, unknown> {
  if (request.dimensions !== undefined) {
    throw new SwitchyardError(
      'unsupported_feature',
      'Cohere Embed v3 on Bedrock has a fixed size; "dimensions" is not supported.',
      { param: 'dimensions', beforeSending: true },
    );
  }
  return { texts, input_type: inputType, embedding_types: ['float'] };
}

/** Cohere Embed on Bedrock takes at most this many texts per call. */
export const COHERE_BEDROCK_BATCH = 96;

/** The float vectors of a Cohere Embed response (plain, or by type when `embedding_types` was sent). */
export function cohereBedrockVectors(body: CohereBedrockEmbeddingResponse, provider: string): number[][] {
  const vectors = Array.isArray(body.embeddings) ? body.embeddings : body.embeddings?.float;
  if (vectors === undefined)
    throw new SwitchyardError(
      'upstream_error',
      `Provider "${provider}" sent an embedding response without float embeddings.`,
      { provider },
    );
  return vectors;
}
