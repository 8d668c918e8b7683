import { SwitchyardError } from '../errors/switchyard-error';
import type { Embedding, EmbeddingRequest } from '../wire/openai-embeddings';

/**
 * The texts of an embeddings request. Providers that take only text reject token-id input
 * with `unsupported_feature`.
 */
export function embeddingTexts(request: EmbeddingRequest, provider: string): string[] {
  const { input } = request;
  if (typeof input === 'string') return [input];
  if (input.every((item): item is string => typeof item === 'string')) return input;
  throw new SwitchyardError(
    'unsupported_feature',
    `Provider "${provider}" embeds text only, not token ids.`,
    { provider, param: 'input', beforeSending: true },
  );
}

/**
 * One OpenAI embedding entry from a float vector, base64-encoded as little-endian float32
 * (OpenAI's encoding) when the client asked for `encoding_format: base64`.
 */
export function toEmbedding(
  values: readonly number[],
  index: number,
  format: EmbeddingRequest['encoding_format'],
): Embedding {
  if (format !== 'base64') return { object: 'embedding', index, embedding: [...values] };
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return { object: 'embedding', index, embedding: bytes.toString('base64') };
}
