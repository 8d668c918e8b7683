import type { MockExchange, MockRoute } from '../mock-upstream';
import { sendJson, splitText } from '../sse';
import { writeChunks } from '../stream-chunks';

// Shapes follow Cohere's API v2 reference (https://docs.cohere.com/reference/chat and
// /reference/chat-stream): typed SSE events from message-start to message-end, usage in
// billed_units and tokens; /v2/embed answers embeddings by type.

interface CohereBody {
  model?: string;
  stream?: boolean;
  tools?: Array<{ function: { name: string } }>;
  tool_choice?: string;
}

const usage = {
  billed_units: { input_tokens: 19, output_tokens: 10 },
  tokens: { input_tokens: 70, output_tokens: 10 },
};
const event = (type: string, data: Record<string, unknown>): string =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

async function chat({ res, body, streamFault, options }: MockExchange): Promise<void> {
  const request = (body ?? {}) as CohereBody;
  const tool = request.tool_choice === 'REQUIRED' ? request.tools?.[0]?.function.name : undefined;
  const call = {
    id: 'call_cohere_1',
    type: 'function',
    function: { name: tool, arguments: '{"location":"Boston, MA"}' },
  };
  if (request.stream !== true) {
    sendJson(res, 200, {
      id: 'c14c80c3-18eb-4519-9460-6c92edd8cfb4',
      finish_reason: tool === undefined ? 'COMPLETE' : 'TOOL_CALL',
      message:
        tool === undefined
          ? { role: 'assistant', content: [{ type: 'text', text: options.replyText }] }
          : { role: 'assistant', tool_plan: 'I will call the tool.', tool_calls: [call] },
      usage,
    });
    return;
  }
  const chunks = [
    event('message-start', {
      id: '29f14a5a-11de-4cae-9800-25e4747408ea',
      delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } },
    }),
  ];
  if (tool === undefined) {
    chunks.push(
      event('content-start', { index: 0, delta: { message: { content: { type: 'text', text: '' } } } }),
    );
    for (const piece of splitText(options.replyText, options.streamChunks))
      chunks.push(event('content-delta', { index: 0, delta: { message: { content: { text: piece } } } }));
    chunks.push(event('content-end', { index: 0 }));
  } else {
    chunks.push(
      event('tool-call-start', {
        index: 0,
        delta: { message: { tool_calls: { ...call, function: { name: tool, arguments: '' } } } },
      }),
    );
    for (const piece of ['{"location":', '"Boston, MA"}'])
      chunks.push(
        event('tool-call-delta', {
          index: 0,
          delta: { message: { tool_calls: { function: { arguments: piece } } } },
        }),
      );
    chunks.push(event('tool-call-end', { index: 0 }));
  }
  chunks.push(
    event('message-end', { delta: { finish_reason: tool === undefined ? 'COMPLETE' : 'TOOL_CALL', usage } }),
  );
  await writeChunks(res, {
    contentType: 'text/event-stream',
    chunks,
    streamFault,
    errorChunk: (message) => event('message-end', { delta: { finish_reason: 'ERROR', error: message } }),
  });
}

function embed({ res, body }: MockExchange): void {
  const request = (body ?? {}) as { texts?: string[]; output_dimension?: number };
  const texts = request.texts ?? [];
  const dims = request.output_dimension ?? 8;
  sendJson(res, 200, {
    id: 'da6e531f-54c6-4a73-bf92-f60566d8d753',
    embeddings: {
      float: texts.map((_, index) =>
        Array.from({ length: dims }, (_v, i) => Number((((index + 1) * (i + 1)) / 100).toFixed(6))),
      ),
    },
    texts,
    meta: { api_version: { version: '2' }, billed_units: { input_tokens: texts.length } },
    response_type: 'embeddings_by_type',
  });
}

/** Cohere's v2 routes: `/v2/chat` (JSON or typed SSE) and `/v2/embed`. */
export const cohereRoutes: MockRoute[] = [
  { method: 'POST', path: /\/v2\/chat$/, handle: chat },
  { method: 'POST', path: /\/v2\/embed$/, handle: embed },
];
