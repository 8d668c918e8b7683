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
    googleError(res, 401, 'UNAUTHENTICATED', 'Request is missing required authentication credential. Expected OAuth 2 access token.');
    return;
  }
  const request = (body ?? {}) as { anthropic_version?: unknown };
  if (request.anthropic_version !== 'vertex-2023-10-16') {
    sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'anthropic_version: must be "vertex-2023-10-16"' } });
    return;
  }
  const [, model = '', action] = CLAUDE_PATH.exec(url.pathname) ?? [];
  const name = decodeURIComponent(model);
  if (name === 'count-tokens') {
    sendJson(res, 200, { input_tokens: 25 });
    return;
  }
  await answerMessages(exchange, { model: name.replace('@', '-'), idPrefix: 'msg_vrtx_', stream: action === 'streamRawPredict' });
}

/** Claude on Vertex AI: rawPredict (whole), streamRawPredict (SSE) and count-tokens. */
export const vertexRoutes: MockRoute[] = [{ method: 'POST', path: CLAUDE_PATH, handle: claude }];
