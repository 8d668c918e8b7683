import { SwitchyardError } from '../../errors/switchyard-error';
import type { SseEvent } from '../../stream/read-sse';
import type { StreamMapper } from '../../stream/map-upstream-stream';
import type { UsageSoFar } from '../../stream/stream-usage-so-far';
import type { ChatCompletionChunk, ChatDelta, ChatFinishReason, ChatUsage } from '../../wire/openai-chat';
import { geminiBlockedError, mapGeminiFinishReason, mapGeminiUsage } from './from-gemini-response';
import { geminiStreamError } from './gemini-error';
import { geminiToolCallId } from './gemini-tool-call-id';
import { isGeminiErrorBody, type GeminiResponse } from './gemini-wire';

/**
 * Maps the events of one `streamGenerateContent?alt=sse` stream to OpenAI chunks. Each event
 * is a whole `GenerateContentResponse` holding the next piece; usage is cumulative, so the
 * last one counts and is sent once, in a final chunk, after the finish reason.
 * @see https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 */
export class GeminiStreamMapper implements StreamMapper<SseEvent>, UsageSoFar {
  #started = false;
  #toolCalls = 0;
  #finish: ChatFinishReason | null = null;
  #usage: ChatUsage | undefined;
  #model: string;

  constructor(
    private readonly provider: string,
    model: string,
    private readonly id: string,
    private readonly created: number,
  ) {
    this.#model = model;
  }

  get done(): boolean {
    return false;
  }

  /**
   * The usage of the latest event that carried one, for a stream cut before its end (whose
   * usage chunk `end()` makes): every event's `usageMetadata` is the running total, so it is
   * what was used up to that event. Undefined before any event carried usage.
   */
  usageSoFar(): ChatUsage | undefined {
    return this.#usage;
  }

  map(event: SseEvent): ChatCompletionChunk[] {
    if (event.data.length === 0) return [];
    let data: GeminiResponse;
    try {
      data = JSON.parse(event.data) as GeminiResponse;
    } catch (cause) {
      throw new SwitchyardError('upstream_stream_error', `Provider "${this.provider}" sent an unreadable stream event.`, { provider: this.provider, cause });
    }
    if (isGeminiErrorBody(data)) throw geminiStreamError(this.provider, data.error);
    if (data.promptFeedback?.blockReason !== undefined && (data.candidates ?? []).length === 0) {
      throw geminiBlockedError(this.provider, data.promptFeedback.blockReason);
    }
    if (data.modelVersion !== undefined) this.#model = data.modelVersion;
    // usage is cumulative in every event: keep the latest, never add
    if (data.usageMetadata !== undefined) this.#usage = mapGeminiUsage(data.usageMetadata);
    const chunks: ChatCompletionChunk[] = [];
    const candidate = data.candidates?.[0];
    const delta: ChatDelta = {};
    if (!this.#started) {
      delta.role = 'assistant';
      this.#started = true;
    }
    for (const part of candidate?.content?.parts ?? []) {
      if (part.thought === true) continue;
      if (typeof part.text === 'string' && part.text.length > 0) delta.content = (delta.content ?? '') + part.text;
      if (part.functionCall !== undefined) {
        const index = this.#toolCalls++;
        (delta.tool_calls ??= []).push({
          index,
          id: geminiToolCallId(part.functionCall.id ?? `call_${this.id}_${index}`, part.thoughtSignature),
          type: 'function',
          function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
        });
      }
    }
    if (Object.keys(delta).length > 0) chunks.push(this.#chunk(delta, null));
    const finish = mapGeminiFinishReason(candidate?.finishReason, this.#toolCalls > 0);
    if (finish !== null && this.#finish === null) {
      this.#finish = finish;
      chunks.push(this.#chunk({}, finish));
    }
    return chunks;
  }

  end(): ChatCompletionChunk[] {
    if (this.#finish === null) {
      throw new SwitchyardError('upstream_stream_error', `Provider "${this.provider}" closed the stream before it finished.`, { provider: this.provider });
    }
    return this.#usage === undefined ? [] : [{ ...this.#base(), choices: [], usage: this.#usage }];
  }

  #base(): Omit<ChatCompletionChunk, 'choices'> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.#model };
  }

  #chunk(delta: ChatDelta, finish: ChatFinishReason | null): ChatCompletionChunk {
    return { ...this.#base(), choices: [{ index: 0, delta, finish_reason: finish }] };
  }
}
