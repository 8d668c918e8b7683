import type { MockExchange, MockRoute } from '../mock-upstream';
import { sendJson, splitText } from '../sse';
import { writeChunks } from '../stream-chunks';

// Shapes follow the Gemini API reference (https://ai.google.dev/api/generate-content):
// GenerateContentResponse with candidates, finishReason and usageMetadata; streams are
// `alt=sse` events each holding one GenerateContentResponse.

interface GeminiBody {
  contents?: Array<{ role?: string; parts?: Array<Record<string, unknown>> }>;
  systemInstruction?: { parts?: Array<Record<string, unknown>> };
  tools?: Array<{
    functionDeclarations?: Array<{ name: string }>;
    google_search?: unknown;
    googleSearch?: unknown;
    google_search_retrieval?: unknown;
    googleSearchRetrieval?: unknown;
  }>;
  toolConfig?: { functionCallingConfig?: { mode?: string; allowedFunctionNames?: string[] } };
}

/**
 * Google's documented answer to a request with the `google_search` tool (Grounding with Google
 * Search, https://ai.google.dev/gemini-api/docs/google-search): its reply text and its
 * candidate's `groundingMetadata` (two search queries, two web sources), as the page gives them
 * but for the spans of `groundingSupports`: the page's (0-85, 86-210) belong to a longer answer
 * than the text it prints, so here they are the UTF-8 byte spans of this text's two sentences.
 */
export const GEMINI_GROUNDING_EXAMPLE = {
  text: "Spain won Euro 2024, defeating England 2-1 in the final. This victory marks Spain's record fourth European Championship title.",
  groundingMetadata: {
    webSearchQueries: ['UEFA Euro 2024 winner', 'who won euro 2024'],
    searchEntryPoint: { renderedContent: '<!-- HTML and CSS for the search widget -->' },
    groundingChunks: [
      { web: { uri: 'https://vertexaisearch.cloud.google.com.....', title: 'aljazeera.com' } },
      { web: { uri: 'https://vertexaisearch.cloud.google.com.....', title: 'uefa.com' } },
    ],
    groundingSupports: [
      {
        segment: {
          startIndex: 0,
          endIndex: 56,
          text: 'Spain won Euro 2024, defeating England 2-1 in the final.',
        },
        groundingChunkIndices: [0],
      },
      {
        segment: {
          startIndex: 57,
          endIndex: 126,
          text: "This victory marks Spain's record fourth European Championship title.",
        },
        groundingChunkIndices: [0, 1],
      },
    ],
  },
} as const;

// the Google Search tool, by its proto name (`google_search`, the REST guides') or its JSON name
// (`googleSearch`, the API reference's); Gemini 1.x's `google_search_retrieval` grounds alike
function searchesGoogle(body: GeminiBody): boolean {
  return (body.tools ?? []).some(
    (tool) =>
      tool.google_search !== undefined ||
      tool.googleSearch !== undefined ||
      tool.google_search_retrieval !== undefined ||
      tool.googleSearchRetrieval !== undefined,
  );
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
    if ((content.parts ?? []).length === 0)
      return `* GenerateContentRequest.contents[${index}].parts: contents.parts must not be empty.\n`;
  }
  const parts = [
    ...(body.contents ?? []).flatMap((content) => content.parts ?? []),
    ...(body.systemInstruction?.parts ?? []),
  ];
  if (parts.some((part) => part['text'] === '')) {
    return 'Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini';
  }
  return undefined;
}

async function generate(
  { res, url, body, streamFault, options }: MockExchange,
  stream: boolean,
): Promise<void> {
  const request = (body ?? {}) as GeminiBody;
  const problem = contentProblem(request);
  if (problem !== undefined) {
    sendJson(res, 400, { error: { code: 400, message: problem, status: 'INVALID_ARGUMENT' } });
    return;
  }
  const model = modelOf(url.pathname);
  const tool = toolName(request);
  const functionCall = { name: tool, args: { location: 'Boston, MA' } };
  // a request with the Google Search tool gets the documented grounded answer
  const grounding =
    tool === undefined && searchesGoogle(request)
      ? { groundingMetadata: GEMINI_GROUNDING_EXAMPLE.groundingMetadata }
      : {};
  const replyText =
    grounding.groundingMetadata === undefined ? options.replyText : GEMINI_GROUNDING_EXAMPLE.text;
  if (!stream) {
    sendJson(res, 200, {
      candidates: [
        {
          content: { parts: tool === undefined ? [{ text: replyText }] : [{ functionCall }], role: 'model' },
          finishReason: 'STOP',
          index: 0,
          ...grounding,
        },
      ],
      usageMetadata: usage(10),
      modelVersion: model,
      responseId: 'mock-gemini-response',
    });
    return;
  }
  const pieces = tool === undefined ? splitText(replyText, options.streamChunks) : [''];
  const chunks = pieces.map((piece, index) => {
    const last = index === pieces.length - 1;
    const event = {
      candidates: [
        {
          content: { parts: tool === undefined ? [{ text: piece }] : [{ functionCall }], role: 'model' },
          // the grounding comes with the finish, once
          ...(last ? { finishReason: 'STOP', ...grounding } : {}),
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
    errorChunk: (message) =>
      `data: ${JSON.stringify({ error: { code: 500, message, status: 'INTERNAL' } })}\r\n\r\n`,
  });
}

function vector(index: number, dims: number): number[] {
  return Array.from({ length: dims }, (_v, i) => Number((((index + 1) * (i + 1)) / 100).toFixed(6)));
}

// Imagen on the Gemini API (https://ai.google.dev/gemini-api/docs/imagen): `models/<imagen
// model>:predict` with the key in `x-goog-api-key`, `parameters.sampleCount` images (4 by
// default), each base64-encoded, in the shape Vertex AI's Imagen answers in
const IMAGEN_PATH = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):predict$/;
// a 1x1 PNG
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

function imagen({ req, res, url, body }: MockExchange): void {
  if (typeof req.headers['x-goog-api-key'] !== 'string') {
    sendJson(res, 403, {
      error: {
        code: 403,
        message:
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        status: 'PERMISSION_DENIED',
      },
    });
    return;
  }
  const model = decodeURIComponent(IMAGEN_PATH.exec(url.pathname)?.[1] ?? '');
  if (!model.startsWith('imagen-')) {
    sendJson(res, 404, {
      error: {
        code: 404,
        message: `models/${model} is not found for API version v1beta, or is not supported for predict.`,
        status: 'NOT_FOUND',
      },
    });
    return;
  }
  const sampleCount = (body as { parameters?: { sampleCount?: unknown } } | undefined)?.parameters
    ?.sampleCount;
  const count = typeof sampleCount === 'number' ? sampleCount : 4;
  sendJson(res, 200, {
    predictions: Array.from({ length: count }, () => ({
      mimeType: 'image/png',
      bytesBase64Encoded: PNG_BASE64,
    })),
  });
}

/** Gemini API routes: generateContent, streamGenerateContent (SSE), embedContent, batchEmbedContents, Imagen's predict. */
export const geminiRoutes: MockRoute[] = [
  { method: 'POST', path: IMAGEN_PATH, handle: imagen },
  {
    method: 'POST',
    path: /\/models\/[^/]+:generateContent$/,
    handle: (exchange) => generate(exchange, false),
  },
  {
    method: 'POST',
    path: /\/models\/[^/]+:streamGenerateContent$/,
    handle: (exchange) => generate(exchange, true),
  },
  {
    method: 'POST',
    path: /\/models\/[^/]+:embedContent$/,
    handle: ({ res, body }) =>
      sendJson(res, 200, {
        embedding: {
          values: vector(0, (body as { outputDimensionality?: number }).outputDimensionality ?? 8),
        },
      }),
  },
  {
    method: 'POST',
    path: /\/models\/[^/]+:batchEmbedContents$/,
    handle: ({ res, body }) => {
      const requests = (body as { requests?: Array<{ outputDimensionality?: number }> }).requests ?? [];
      sendJson(res, 200, {
        embeddings: requests.map((request, index) => ({
          values: vector(index, request.outputDimensionality ?? 8),
        })),
      });
    },
  },
];
