import type { MockExchange, MockRoute } from '../mock-upstream';
import { sendJson, splitText } from '../sse';
import { writeChunks } from '../stream-chunks';

// Shapes follow Ollama's API reference (https://github.com/ollama/ollama/blob/main/docs/api.md):
// /api/chat answers one JSON object, or NDJSON lines ending with a `done: true` line that
// carries done_reason and the token counts; /api/embed answers `embeddings`.
// Thinking (https://docs.ollama.com/capabilities/thinking), as Ollama's server decides it from a
// model's capabilities, which are not in its name: here a fixed library of the models tests use.
// A thinking model thinks unless `think` is false, its reasoning in `message.thinking` (streamed
// ahead of the content); `think: true` or a level for any other model is refused, and so is a level
// for any model Ollama does not run with its harmony parser (gpt-oss's family), each with Ollama's
// own 400.

interface OllamaBody {
  model?: string;
  stream?: boolean;
  tools?: Array<{ function: { name: string } }>;
  think?: unknown;
}

/** The models of the mock's library that take a thinking level (gpt-oss's family, Ollama's harmony parser). */
const LEVELLED_MODELS: ReadonlySet<string> = new Set([
  'gpt-oss',
  'gpt-oss:20b',
  'gpt-oss:120b',
  'gpt-oss:120b-cloud',
  'gpt-oss-safeguard:20b',
  'gpt-oss-safeguard:120b',
  'hf.co/unsloth/gpt-oss-20b-GGUF',
  'hf.co/bartowski/openai_gpt-oss-20b-GGUF',
]);
/** The models of the mock's library that think; the others (llama3.2, ...) do not. */
const THINKING_MODELS: ReadonlySet<string> = new Set([
  ...LEVELLED_MODELS,
  'qwen3',
  'qwen3:8b',
  'deepseek-r1:8b',
  // a Qwen 3 distilled from gpt-oss's answers: a Qwen 3 (on/off), whatever its name says
  'hf.co/someone/gpt-oss-distill-qwen3-8b-GGUF',
]);
/** The reasoning a thinking model shows before its answer. */
export const OLLAMA_MOCK_THINKING = 'The user greets me; a short friendly answer will do.';

/** Ollama's 400 for a `think` the model cannot take, or undefined when it takes it. */
function refusedThink(model: string, think: unknown): string | undefined {
  if (typeof think === 'string') {
    if (!['low', 'medium', 'high'].includes(think))
      return `invalid think value: "${think}" (must be "high", "medium", "low", true, or false)`;
    if (!LEVELLED_MODELS.has(model)) return `think value "${think}" is not supported for this model`;
  }
  if ((think === true || typeof think === 'string') && !THINKING_MODELS.has(model))
    return `"${model}" does not support thinking`;
  return undefined;
}

const CREATED_AT = '2024-07-22T20:33:28.123648Z';

async function chat({ res, body, streamFault, options }: MockExchange): Promise<void> {
  const request = (body ?? {}) as OllamaBody;
  const model = request.model ?? 'llama3.2';
  const refusal = refusedThink(model, request.think);
  if (refusal !== undefined) {
    sendJson(res, 400, { error: refusal });
    return;
  }
  const thinking = THINKING_MODELS.has(model) && request.think !== false ? OLLAMA_MOCK_THINKING : undefined;
  // Ollama has no tool_choice: the mock calls the first tool whenever tools are offered
  const tool = request.tools?.[0]?.function.name;
  const toolCalls =
    tool === undefined ? undefined : [{ function: { name: tool, arguments: { location: 'Boston, MA' } } }];
  const counts = {
    prompt_eval_count: 26,
    eval_count: 12,
    total_duration: 5191566416,
    load_duration: 2154458,
  };
  if (request.stream === false) {
    sendJson(res, 200, {
      model,
      created_at: CREATED_AT,
      message: {
        role: 'assistant',
        content: tool === undefined ? options.replyText : '',
        ...(thinking === undefined ? {} : { thinking }),
        ...(toolCalls === undefined ? {} : { tool_calls: toolCalls }),
      },
      done: true,
      done_reason: 'stop',
      ...counts,
    });
    return;
  }
  const lines: Array<Record<string, unknown>> =
    tool === undefined
      ? splitText(options.replyText, options.streamChunks).map((piece) => ({
          model,
          created_at: CREATED_AT,
          message: { role: 'assistant', content: piece },
          done: false,
        }))
      : [
          {
            model,
            created_at: CREATED_AT,
            message: { role: 'assistant', content: '', tool_calls: toolCalls },
            done: false,
          },
        ];
  if (thinking !== undefined) {
    lines.unshift(
      ...splitText(thinking, 3).map((piece) => ({
        model,
        created_at: CREATED_AT,
        message: { role: 'assistant', content: '', thinking: piece },
        done: false,
      })),
    );
  }
  lines.push({
    model,
    created_at: CREATED_AT,
    message: { role: 'assistant', content: '' },
    done: true,
    done_reason: 'stop',
    ...counts,
  });
  await writeChunks(res, {
    contentType: 'application/x-ndjson',
    chunks: lines.map((line) => `${JSON.stringify(line)}\n`),
    streamFault,
    errorChunk: (message) => `${JSON.stringify({ error: message })}\n`,
  });
}

function embed({ res, body }: MockExchange): void {
  const request = (body ?? {}) as { model?: string; input?: string | string[]; dimensions?: number };
  const inputs = Array.isArray(request.input) ? request.input : [request.input ?? ''];
  const dims = request.dimensions ?? 8;
  sendJson(res, 200, {
    model: request.model ?? 'all-minilm',
    embeddings: inputs.map((_, index) =>
      Array.from({ length: dims }, (_v, i) => Number((((index + 1) * (i + 1)) / 100).toFixed(6))),
    ),
    total_duration: 14143917,
    load_duration: 1019500,
    prompt_eval_count: 4 * inputs.length,
  });
}

/** Ollama's native routes: `/api/chat` (JSON or NDJSON) and `/api/embed`. */
export const ollamaRoutes: MockRoute[] = [
  { method: 'POST', path: /\/api\/chat$/, handle: chat },
  { method: 'POST', path: /\/api\/embed$/, handle: embed },
];
