import { SwitchyardError } from '../../errors/switchyard-error';
import type { SseEvent } from '../../stream/read-sse';
import type { StreamMapper } from '../../stream/map-upstream-stream';
import type { ChatCompletionChunk, ChatDelta, ChatFinishReason } from '../../wire/openai-chat';
import { cohereFailedFinish, mapCohereFinishReason, mapCohereUsage } from './from-cohere-response';
import { cohereStreamError } from './cohere-error';
import type { CohereStreamEvent } from './cohere-wire';

/**
 * Maps the typed SSE events of one Cohere Chat v2 stream (`message-start`, `content-delta`,
 * `tool-call-start`, `tool-call-delta`, `message-end`, ...) to OpenAI chunks.
 * @see https://docs.cohere.com/reference/chat-stream
 */
export class CohereStreamMapper implements StreamMapper<SseEvent> {
  #done = false;
  #id: string;
  /** Cohere's tool-call index -> the OpenAI tool_calls index. */
  readonly #toolIndex = new Map<number, number>();
  /** OpenAI tool_calls indexes that streamed some arguments. */
  readonly #withArguments = new Set<number>();

  constructor(
    private readonly provider: string,
    private readonly model: string,
    id: string,
    private readonly created: number,
  ) {
    this.#id = id;
  }

  get done(): boolean {
    return this.#done;
  }

  map(event: SseEvent): ChatCompletionChunk[] {
    if (event.data.length === 0) return [];
    let data: CohereStreamEvent;
    try {
      data = JSON.parse(event.data) as CohereStreamEvent;
    } catch (cause) {
      throw new SwitchyardError(
        'upstream_stream_error',
        `Provider "${this.provider}" sent an unreadable stream event.`,
        { provider: this.provider, cause },
      );
    }
    const type = data.type ?? event.event;
    switch (type) {
      case 'message-start':
        if (data.id !== undefined) this.#id = data.id;
        return [this.#chunk({ role: 'assistant', content: '' }, null)];
      case 'content-delta': {
        const text = data.delta?.message?.content?.text ?? '';
        return text.length > 0 ? [this.#chunk({ content: text }, null)] : [];
      }
      case 'tool-call-start': {
        const call = data.delta?.message?.tool_calls;
        const index = this.#toolIndex.size;
        this.#toolIndex.set(data.index ?? index, index);
        if ((call?.function?.arguments ?? '').length > 0) this.#withArguments.add(index);
        return [
          this.#chunk(
            {
              tool_calls: [
                {
                  index,
                  id: call?.id ?? `call_${index}`,
                  type: 'function',
                  function: { name: call?.function?.name ?? '', arguments: call?.function?.arguments ?? '' },
                },
              ],
            },
            null,
          ),
        ];
      }
      case 'tool-call-delta': {
        const index = this.#toolIndex.get(data.index ?? 0) ?? 0;
        const args = data.delta?.message?.tool_calls?.function?.arguments ?? '';
        if (args.length === 0) return [];
        this.#withArguments.add(index);
        return [this.#chunk({ tool_calls: [{ index, function: { arguments: args } }] }, null)];
      }
      case 'tool-call-end': {
        // a tool called without arguments streamed none: they are "{}", as in a whole answer
        const index = this.#toolIndex.get(data.index ?? 0);
        if (index === undefined || this.#withArguments.has(index)) return [];
        this.#withArguments.add(index);
        return [this.#chunk({ tool_calls: [{ index, function: { arguments: '{}' } }] }, null)];
      }
      case 'message-end': {
        this.#done = true;
        const reason = data.delta?.finish_reason;
        if (reason === 'ERROR') throw cohereStreamError(this.provider, data.delta?.error);
        const failed = cohereFailedFinish(this.provider, reason, 'upstream_stream_error');
        if (failed !== undefined) throw failed;
        const chunks = [this.#chunk({}, mapCohereFinishReason(reason))];
        if (data.delta?.usage !== undefined)
          chunks.push({ ...this.#base(), choices: [], usage: mapCohereUsage(data.delta.usage) });
        return chunks;
      }
      default:
        // content-start/end, tool-plan-delta, citation-* carry nothing OpenAI shows
        return [];
    }
  }

  end(): ChatCompletionChunk[] {
    if (!this.#done) {
      throw new SwitchyardError(
        'upstream_stream_error',
        `Provider "${this.provider}" closed the stream before it finished.`,
        { provider: this.provider },
      );
    }
    return [];
  }

  #base(): Omit<ChatCompletionChunk, 'choices'> {
    return { id: this.#id, object: 'chat.completion.chunk', created: this.created, model: this.model };
  }

  #chunk(delta: ChatDelta, finish: ChatFinishReason | null): ChatCompletionChunk {
    return { ...this.#base(), choices: [{ index: 0, delta, finish_reason: finish }] };
  }
}
