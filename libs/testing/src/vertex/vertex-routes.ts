import { answerMessages } from '../anthropic/anthropic-routes';
import type { MockExchange, MockRoute } from '../mock-upstream';
import { sendJson } from '../sse';

// Claude on Vertex AI: the Messages shapes at `.../publishers/anthropic/models/<model>:rawPredict`
// (whole) and `:streamRawPredict` (SSE). The model is in the URL, not the body; the body names
// `anthropic_version: "vertex-2023-10-16"` instead of the header; a Google OAuth bearer token
// authenticates. Vertex answers with Anthropic's name of the model (`claude-haiku-4-5-20251001`
// for `claude-haiku-4-5@20251001`) and `msg_vrtx_` message ids. `count-tokens:rawPredict` counts
// a request's input tokens, free of charge.
// https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude,
// https://docs.anthropic.com/en/api/claude-on-vertex-ai

const CLAUDE_PATH = /\/publishers\/anthropic\/models\/([^/:]+):(rawPredict|streamRawPredict)$/;

function googleError(res: MockExchange['res'], code: number, status: string, message: string): void {
  sendJson(res, code, { error: { code, message, status } });
}

async function claude(exchange: MockExchange): Promise<void> {
  const { req, res, url, body } = exchange;
  if (!/^Bearer \S+$/.test(req.headers.authorization ?? '')) {
    googleError(
      res,
      401,
      'UNAUTHENTICATED',
      'Request is missing required authentication credential. Expected OAuth 2 access token.',
    );
    return;
  }
  const request = (body ?? {}) as { anthropic_version?: unknown };
  if (request.anthropic_version !== 'vertex-2023-10-16') {
    sendJson(res, 400, {
      type: 'error',
      error: { type: 'invalid_request_error', message: 'anthropic_version: must be "vertex-2023-10-16"' },
    });
    return;
  }
  const [, model = '', action] = CLAUDE_PATH.exec(url.pathname) ?? [];
  const name = decodeURIComponent(model);
  if (name === 'count-tokens') {
    sendJson(res, 200, { input_tokens: 25 });
    return;
  }
  await answerMessages(exchange, {
    model: name.replace('@', '-'),
    idPrefix: 'msg_vrtx_',
    stream: action === 'streamRawPredict',
  });
}

// Google's own models at `.../publishers/google/models/<model>:predict`: text embeddings (a token
// count per instance, the billable characters in `metadata`) and Imagen (`sampleCount` images,
// 4 by default, base64-encoded). A model deployed to an endpoint of one's own answers
// `.../endpoints/<id>:predict` in whatever shape it has: here the embeddings shape, as a deployed
// embedding model would.
// https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api,
// https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/imagen-api

const PREDICT_PATH = /\/publishers\/google\/models\/([^/:]+):predict$/;
const ENDPOINT_PREDICT_PATH = /\/endpoints\/[^/:]+:predict$/;
// a 1x1 PNG
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

interface PredictRequest {
  instances?: Array<{ content?: unknown } | null | undefined>;
  parameters?: { sampleCount?: unknown };
}

function embed(res: MockExchange['res'], instances: NonNullable<PredictRequest['instances']>): void {
  const texts = instances.map((instance) => (typeof instance?.content === 'string' ? instance.content : ''));
  sendJson(res, 200, {
    predictions: texts.map((text, index) => ({
      embeddings: {
        statistics: { truncated: false, token_count: Math.ceil(text.length / 4) },
        values: [0.01 * (index + 1), -0.02, 0.03],
      },
    })),
    metadata: { billableCharacterCount: texts.reduce((sum, text) => sum + text.length, 0) },
  });
}

function predict(exchange: MockExchange): void {
  const { req, res, url, body } = exchange;
  if (!/^Bearer \S+$/.test(req.headers.authorization ?? '')) {
    googleError(
      res,
      401,
      'UNAUTHENTICATED',
      'Request is missing required authentication credential. Expected OAuth 2 access token.',
    );
    return;
  }
  const request = (body ?? {}) as PredictRequest;
  const instances = Array.isArray(request.instances) ? request.instances : [];
  const model = decodeURIComponent(PREDICT_PATH.exec(url.pathname)?.[1] ?? '');
  if (!model.startsWith('imagen-')) {
    embed(res, instances);
    return;
  }
  const count = typeof request.parameters?.sampleCount === 'number' ? request.parameters.sampleCount : 4;
  sendJson(res, 200, {
    predictions: Array.from({ length: count }, () => ({
      mimeType: 'image/png',
      bytesBase64Encoded: PNG_BASE64,
    })),
  });
}

/**
 * Vertex AI: Claude's rawPredict (whole), streamRawPredict (SSE) and count-tokens; Google's text
 * embeddings and Imagen at `:predict`; and a self-deployed endpoint's `:predict`.
 */
export const vertexRoutes: MockRoute[] = [
  { method: 'POST', path: CLAUDE_PATH, handle: claude },
  { method: 'POST', path: PREDICT_PATH, handle: predict },
  {
    method: 'POST',
    path: ENDPOINT_PREDICT_PATH,
    handle: ({ res, body }) => embed(res, (body as PredictRequest | undefined)?.instances ?? []),
  },
];
