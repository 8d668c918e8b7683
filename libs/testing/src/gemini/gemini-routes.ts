import type { MockExchange, MockRoute } from '../mock-upstream';
import { sendJson, splitText } from '../sse';
import { writeChunks } from '../stream-chunks';

// Shapes follow the Gemini API reference (https://ai.google.dev/api/generate-content):
// GenerateContentResponse with candidates, finishReason and usageMetadata; streams are
// `alt=sse` events each holding one GenerateContentResponse.

interface GeminiBody {
  contents?: Array<{ role?: string; parts?: Array<Record<string, unknown>> }>;
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

async function generate({ res, url, body, streamFault, options }: MockExchange, stream: boolean): Promise<void> {
  const request = (body ?? {}) as GeminiBody;
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
