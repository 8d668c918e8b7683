import type { MockExchange, MockRoute } from '../mock-upstream';
import { sendJson, splitText, startSse, writeSse } from '../sse';

// Shapes and figures follow OpenAI's documented examples for chat completions, streaming
// chunks and embeddings (https://platform.openai.com/docs/api-reference/chat/create).

interface ChatBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: Array<{ function: { name: string } }>;
  tool_choice?: unknown;
}

let counter = 0;

function toolName(body: ChatBody): string | undefined {
  const choice = body.tool_choice;
  if (typeof choice === 'object' && choice !== null) return (choice as { function: { name: string } }).function.name;
  return choice === 'required' ? body.tools?.[0]?.function.name : undefined;
}

async function chat({ res, body, streamFault, options }: MockExchange): Promise<void> {
  const request = (body ?? {}) as ChatBody;
  const model = request.model ?? 'gpt-4o-mini';
  const id = `chatcmpl-mock${++counter}`;
  const created = 1741569952;
  const usage = options.chatUsage;
  const tool = toolName(request);
  if (request.stream !== true) {
    const message =
      tool === undefined
        ? { role: 'assistant', content: options.replyText, refusal: null, annotations: [] }
        : { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc123', type: 'function', function: { name: tool, arguments: '{"location":"Boston, MA"}' } }] };
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: tool === undefined ? 'stop' : 'tool_calls' }],
      usage,
      service_tier: 'default',
      system_fingerprint: 'fp_mock',
    });
    return;
  }
  startSse(res);
  const base = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_mock' };
  const pieces = tool === undefined ? splitText(options.replyText, options.streamChunks) : ['{"location":', '"Boston, MA"}'];
  const events: string[] = [JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }] })];
  if (tool !== undefined) {
    events.push(JSON.stringify({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_abc123', type: 'function', function: { name: tool, arguments: '' } }] }, logprobs: null, finish_reason: null }] }));
  }
  for (const piece of pieces) {
    const delta = tool === undefined ? { content: piece } : { tool_calls: [{ index: 0, function: { arguments: piece } }] };
    events.push(JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] }));
  }
  events.push(JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: tool === undefined ? 'stop' : 'tool_calls' }] }));
  if (request.stream_options?.include_usage === true) events.push(JSON.stringify({ ...base, choices: [], usage }));
  for (const [index, data] of events.entries()) {
    if (streamFault?.kind === 'slow-stream') {
      if (index >= (streamFault.afterChunks ?? 1)) await new Promise((resolve) => setTimeout(resolve, streamFault.delayMs));
      await writeSse(res, data);
      continue;
    }
    if (streamFault !== undefined && index === streamFault.afterChunks) {
      if (streamFault.kind === 'cut-stream') {
        // let what was written reach the client, then drop the connection mid-stream
        await new Promise<void>((resolve) => res.write('', () => resolve()));
        res.socket?.destroy();
        return;
      }
      if (streamFault.kind === 'stall-stream') return;
      await writeSse(res, JSON.stringify({ error: { message: streamFault.message ?? 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } }));
      res.end();
      return;
    }
    await writeSse(res, data);
  }
  await writeSse(res, '[DONE]');
  res.end();
}

function embeddings({ res, body }: MockExchange): void {
  const request = (body ?? {}) as { model?: string; input?: unknown; dimensions?: number; encoding_format?: string };
  const inputs = Array.isArray(request.input) ? request.input : [request.input];
  const dims = request.dimensions ?? 8;
  const data = inputs.map((_, index) => {
    const vector = Array.from({ length: dims }, (_v, i) => Number((((index + 1) * (i + 1)) / 100).toFixed(6)));
    return {
      object: 'embedding',
      index,
      embedding: request.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
    };
  });
  sendJson(res, 200, { object: 'list', data, model: request.model ?? 'text-embedding-3-small', usage: { prompt_tokens: 8 * inputs.length, total_tokens: 8 * inputs.length } });
}

/** OpenAI's chat, embeddings and models endpoints (under any base path). */
export const openAIRoutes: MockRoute[] = [
  { method: 'POST', path: /\/chat\/completions$/, handle: chat },
  { method: 'POST', path: /\/embeddings$/, handle: embeddings },
  {
    method: 'GET',
    path: /\/models$/,
    handle: ({ res }) =>
      sendJson(res, 200, {
        object: 'list',
        data: [
          { id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' },
          { id: 'text-embedding-3-small', object: 'model', created: 1705948997, owned_by: 'system' },
        ],
      }),
  },
];
