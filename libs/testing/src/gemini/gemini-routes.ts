import type { MockExchange, MockRoute } from '../mock-upstream';
import { sendJson, splitText } from '../sse';
import { writeChunks } from '../stream-chunks';

// Shapes follow the Gemini API reference (https://ai.google.dev/api/generate-content):
// GenerateContentResponse with candidates, finishReason and usageMetadata; streams are
// `alt=sse` events each holding one GenerateContentResponse.

interface GeminiBody {
  contents?: Array<{ role?: string; parts?: Array<Record<string, unknown>> }>;
  systemInstruction?: { parts?: Array<Record<string, unknown>> };
  tools?: Array<{ functionDeclarations?: Array<{ name: string }> }>;
  toolConfig?: { functionCallingConfig?: { mode?: string; allowedFunctionNames?: string[] } };
}

function modelOf(pathname: string): string {
  return decodeURIComponent(/\/models\/([^/:]+):/.exec(pathname)?.[1] ?? 'gemini-2.5-flash');
}

function toolName(body: GeminiBody): string | undefined {
  const config = body.toolConfig?.functionCallingConfig;
  if (config?.mode !== 'ANY') return undefined;
  return config.allowedFunctionNames?.[0] ?? body.tools?.[0]?.functionDeclarations?.[0]?.name;
}

const usage = (candidates: number) => ({
  promptTokenCount: 8,
  candidatesTokenCount: candidates,
  totalTokenCount: 8 + candidates + 4,
  cachedContentTokenCount: 2,
  thoughtsTokenCount: 4,
  promptTokensDetails: [{ modality: 'TEXT', tokenCount: 8 }],
});

/**
 * What Gemini refuses in a request's content, with its messages: a content with no parts
 * (`Content.parts` is required) and a text part that is empty (whitespace-only text passes).
 * Undefined when the request passes.
 */
function contentProblem(body: GeminiBody): string | undefined {
  for (const [index, content] of (body.contents ?? []).entries()) {
    if ((content.parts ?? []).length === 0) return `* GenerateContentRequest.contents[${index}].parts: contents.parts must not be empty.\n`;
  }
  const parts = [...(body.contents ?? []).flatMap((content) => content.parts ?? []), ...(body.systemInstruction?.parts ?? [])];
  if (parts.some((part) => part['text'] === '')) {
    return 'Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini';
  }
  return undefined;
}

async function generate({ res, url, body, streamFault, options }: MockExchange, stream: boolean): Promise<void> {
  const request = (body ?? {}) as GeminiBody;
  const problem = contentProblem(request);
  if (problem !== undefined) {
    sendJson(res, 400, { error: { code: 400, message: problem, status: 'INVALID_ARGUMENT' } });
    return;
  }
  const model = modelOf(url.pathname);
  const tool = toolName(request);
  const functionCall = { name: tool, args: { location: 'Boston, MA' } };
  if (!stream) {
    sendJson(res, 200, {
      candidates: [
        {
          content: { parts: tool === undefined ? [{ text: options.replyText }] : [{ functionCall }], role: 'model' },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: usage(10),
      modelVersion: model,
      responseId: 'mock-gemini-response',
    });
    return;
  }
  const pieces = tool === undefined ? splitText(options.replyText, options.streamChunks) : [''];
  const chunks = pieces.map((piece, index) => {
    const last = index === pieces.length - 1;
    const event = {
      candidates: [
        {
          content: { parts: tool === undefined ? [{ text: piece }] : [{ functionCall }], role: 'model' },
          ...(last ? { finishReason: 'STOP' } : {}),
          index: 0,
        },
      ],
      // running totals; the last event carries the same totals as the whole response
      usageMetadata: usage(last ? 10 : index + 1),
      modelVersion: model,
      responseId: 'mock-gemini-response',
    };
    return `data: ${JSON.stringify(event)}\r\n\r\n`;
  });
  await writeChunks(res, {
    contentType: 'text/event-stream',
    chunks,
    streamFault,
    errorChunk: (message) => `data: ${JSON.stringify({ error: { code: 500, message, status: 'INTERNAL' } })}\r\n\r\n`,
  });
}

function vector(index: number, dims: number): number[] {
  return Array.from({ length: dims }, (_v, i) => Number((((index + 1) * (i + 1)) / 100).toFixed(6)));
}

/** Gemini API routes: generateContent, streamGenerateContent (SSE), embedContent, batchEmbedContents. */
export const geminiRoutes: MockRoute[] = [
  { method: 'POST', path: /\/models\/[^/]+:generateContent$/, handle: (exchange) => generate(exchange, false) },
  { method: 'POST', path: /\/models\/[^/]+:streamGenerateContent$/, handle: (exchange) => generate(exchange, true) },
  {
    method: 'POST',
    path: /\/models\/[^/]+:embedContent$/,
    handle: ({ res, body }) => sendJson(res, 200, { embedding: { values: vector(0, (body as { outputDimensionality?: number }).outputDimensionality ?? 8) } }),
  },
  {
    method: 'POST',
    path: /\/models\/[^/]+:batchEmbedContents$/,
    handle: ({ res, body }) => {
      const requests = (body as { requests?: Array<{ outputDimensionality?: number }> }).requests ?? [];
      sendJson(res, 200, { embeddings: requests.map((request, index) => ({ values: vector(index, request.outputDimensionality ?? 8) })) });
    },
  },
];
