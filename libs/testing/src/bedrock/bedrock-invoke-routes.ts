import type { MockExchange, MockRoute } from '../mock-upstream';
import { sendJson } from '../sse';
import { verifyBedrockAuth } from './verify-sigv4';

// InvokeModel for the embedding models, shaped as the Bedrock model-parameter pages show:
// Titan Text Embeddings ({inputText, dimensions, normalize} -> {embedding, inputTextTokenCount})
// https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html
// and Cohere Embed ({texts, input_type, embedding_types} -> {embeddings, id, response_type, texts})
// https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html

function bedrockError(res: MockExchange['res'], status: number, type: string, message: string): void {
  sendJson(
    res,
    status,
    { message },
    { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` },
  );
}

/** A deterministic vector of `size` values for a text (its length and position shape it). */
function vectorOf(text: string, size: number): number[] {
  return Array.from({ length: size }, (_, i) =>
    Number(((((text.length % 97) + 1) * (i + 1)) / 1000).toFixed(6)),
  );
}

/** Whitespace-separated words, the mock's token count. */
function tokens(text: string): number {
  return text.split(/\s+/).filter((word) => word.length > 0).length;
}

const TITAN_DIMENSIONS = new Set([256, 512, 1024]);

async function invoke(exchange: MockExchange): Promise<void> {
  const { res, url } = exchange;
  const refusal = await verifyBedrockAuth(exchange.req, url, exchange.rawBody);
  if (refusal !== undefined) {
    bedrockError(res, refusal.status, refusal.type, refusal.message);
    return;
  }
  const model = decodeURIComponent(/\/model\/([^/]+)\/invoke$/.exec(url.pathname)?.[1] ?? '');
  const body = (exchange.body ?? {}) as Record<string, unknown>;
  if (model.includes('amazon.titan-embed-text-')) {
    const text = body['inputText'];
    const dimensions = body['dimensions'] ?? 1024;
    if (
      typeof text !== 'string' ||
      text.length === 0 ||
      typeof dimensions !== 'number' ||
      !TITAN_DIMENSIONS.has(dimensions)
    ) {
      bedrockError(
        res,
        400,
        'ValidationException',
        'Malformed input request: inputText must be a non-empty string and dimensions one of 256, 512, 1024.',
      );
      return;
    }
    const embedding = vectorOf(text, dimensions);
    sendJson(res, 200, {
      embedding,
      inputTextTokenCount: tokens(text),
      embeddingsByType: { float: embedding },
    });
    return;
  }
  if (model.includes('cohere.embed-')) {
    const texts = body['texts'];
    if (
      !Array.isArray(texts) ||
      texts.length === 0 ||
      texts.length > 96 ||
      typeof body['input_type'] !== 'string'
    ) {
      bedrockError(
        res,
        400,
        'ValidationException',
        'Malformed input request: texts must hold 1 to 96 strings and input_type is required.',
      );
      return;
    }
    const vectors = (texts as string[]).map((text) => vectorOf(text, 1024));
    const byType = Array.isArray(body['embedding_types']);
    const count = (texts as string[]).reduce((sum, text) => sum + tokens(text), 0);
    sendJson(
      res,
      200,
      {
        id: 'emb-mock-1',
        embeddings: byType ? { float: vectors } : vectors,
        response_type: byType ? 'embeddings_by_type' : 'embeddings_floats',
        texts,
      },
      { 'x-amzn-bedrock-input-token-count': String(count) },
    );
    return;
  }
  bedrockError(res, 400, 'ValidationException', `The provided model identifier is invalid: ${model}`);
}

/** Bedrock Runtime's InvokeModel for Titan Text Embeddings and Cohere Embed (auth verified). */
export const bedrockInvokeRoutes: MockRoute[] = [
  { method: 'POST', path: /\/model\/[^/]+\/invoke$/, handle: invoke },
];
