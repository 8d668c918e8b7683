import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { voyageMeter } from './voyage-meter';

/** `answer` as the proxy keeps it past its capture bound: its first and last 4000 characters. */
function cut(path: string, answer: string, requestText = '{"input":["a"'): MeterExchange {
  return {
    method: 'POST',
    url: new URL(`https://api.voyageai.com/v1${path}`),
    requestHeaders: { 'content-type': 'application/json' },
    requestText,
    requestTruncated: true,
    status: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseText: `${answer.slice(0, 4_000)}\n\n${answer.slice(-4_000)}`,
    responseTruncated: true,
    responseBytes: answer.length,
  };
}

const VECTOR = Array.from({ length: 256 }, (_, index) => index / 256);

// an embeddings batch answers its vectors, then `model` and `usage`: a batch past the capture
// bound keeps them in its tail (https://docs.voyageai.com/reference/embeddings-api)
describe('voyage meter: answers past the capture bound', () => {
  it('meters an embeddings batch from the usage and model at the end of its answer', () => {
    const answer = JSON.stringify({
      object: 'list',
      data: Array.from({ length: 100 }, (_, index) => ({ object: 'embedding', embedding: VECTOR, index })),
      model: 'voyage-3',
      usage: { total_tokens: 98_765 },
    });
    expect(voyageMeter.meter(cut('/embeddings', answer))).toEqual({
      provider: 'voyage',
      model: 'voyage-3',
      operation: 'embeddings',
      tokens: { inputTokens: 98_765, outputTokens: 0 },
      units: {},
    });
    const multimodal = answer.replace('"voyage-3"', '"voyage-multimodal-3"');
    expect(voyageMeter.meter(cut('/multimodalembeddings', multimodal))?.model).toBe('voyage-multimodal-3');
  });

  it('meters no usage from a cut rerank answer, whose documents could hold anything', () => {
    const answer = JSON.stringify({
      object: 'list',
      data: [{ relevance_score: 0.5, index: 0, document: 'x'.repeat(20_000) }],
      model: 'rerank-2',
      usage: { total_tokens: 26 },
    });
    expect(voyageMeter.meter(cut('/rerank', answer))).toBeUndefined();
  });
});
