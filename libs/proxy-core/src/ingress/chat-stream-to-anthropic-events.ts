import { randomUUID } from 'node:crypto';
import type { AnthropicStreamEvent } from '../providers/anthropic/anthropic-wire';
import type { ChatCompletionChunk, ChatFinishReason, ChatUsage } from '../wire/openai-chat';
import { anthropicMessageId } from './chat-to-anthropic-message';
import { mapChatUsageToAnthropic } from './map-chat-usage-to-anthropic';
import { mapFinishReasonToAnthropic } from './map-finish-reason-to-anthropic';

type OpenBlock = { kind: 'text'; index: number } | { kind: 'tool'; index: number; toolIndex: number };

/**
 * Maps one OpenAI chunk stream to Anthropic Messages stream events, chunk by chunk. One
 * instance per stream: it keeps the open content block, which tool call is which block, and
 * the finish reason and usage, which Anthropic reports together in `message_delta` at the end
 * (OpenAI's usage chunk comes after the finish chunk).
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
export class ChatToAnthropicStreamMapper {
  #started = false;
  #open: OpenBlock | undefined;
  #nextIndex = 0;
  /** OpenAI tool-call index -> Anthropic content-block index. */
  readonly #toolBlocks = new Map<number, number>();
  #finish: ChatFinishReason | null = null;
  #stopSequence: string | null = null;
  #usage: ChatUsage | undefined;

  /** @param model The model to report until a chunk names one (the model the client asked for). */
  constructor(private readonly model: string) {}

  /** The events for one chunk: `message_start` and a `ping` before the first, then block events. */
  map(chunk: ChatCompletionChunk): AnthropicStreamEvent[] {
    const events: AnthropicStreamEvent[] = [];
    if (!this.#started) events.push(...this.#start(chunk.id, chunk.model));
    if (chunk.usage !== undefined && chunk.usage !== null) this.#usage = chunk.usage;
    const choice = chunk.choices.find((candidate) => candidate.index === 0);
    if (choice === undefined) return events;
    const text = choice.delta.content;
    if (typeof text === 'string' && text.length > 0) {
      if (this.#open?.kind !== 'text')
        events.push(...this.#openBlock({ kind: 'text', index: this.#nextIndex }, { type: 'text', text: '' }));
      events.push({
        type: 'content_block_delta',
        index: (this.#open as OpenBlock).index,
        delta: { type: 'text_delta', text },
      });
    }
    for (const call of choice.delta.tool_calls ?? []) {
      let index = this.#toolBlocks.get(call.index);
      if (index === undefined) {
        index = this.#nextIndex;
        this.#toolBlocks.set(call.index, index);
        const id = call.id ?? `toolu_${index}`;
        events.push(
          ...this.#openBlock(
            { kind: 'tool', index, toolIndex: call.index },
            { type: 'tool_use', id, name: call.function?.name ?? '', input: {} },
          ),
        );
      }
      const args = call.function?.arguments;
      // fragments of one call arrive in order; a provider interleaving calls still lands each on its own block
      if (typeof args === 'string' && args.length > 0)
        events.push({
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: args },
        });
    }
    if (choice.finish_reason !== null) {
      this.#finish = choice.finish_reason;
      if (typeof choice.stop_sequence === 'string') this.#stopSequence = choice.stop_sequence;
    }
    return events;
  }

  /** The closing events once the chunk stream has ended: the last block's stop, `message_delta`, `message_stop`. */
  end(): AnthropicStreamEvent[] {
    const events: AnthropicStreamEvent[] = this.#started ? [] : this.#start('', this.model);
    events.push(...this.#closeBlock());
    const stopReason = mapFinishReasonToAnthropic(this.#finish, this.#stopSequence);
    events.push({
      type: 'message_delta',
      delta: {
        stop_reason: stopReason,
        stop_sequence: stopReason === 'stop_sequence' ? this.#stopSequence : null,
      },
      usage: mapChatUsageToAnthropic(this.#usage),
    });
    events.push({ type: 'message_stop' });
    return events;
  }

  #start(id: string, model: string): AnthropicStreamEvent[] {
    this.#started = true;
    const message = {
      id: anthropicMessageId(id.length > 0 ? id : randomUUID().replaceAll('-', '')),
      type: 'message' as const,
      role: 'assistant' as const,
      model: model.length > 0 ? model : this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // the prompt's size is known only at the end of an OpenAI stream: message_delta reports it
      usage: {
        input_tokens: 0,
        output_tokens: 0,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    };
    return [{ type: 'message_start', message }, { type: 'ping' }];
  }

  #openBlock(
    block: OpenBlock,
    contentBlock: Extract<AnthropicStreamEvent, { type: 'content_block_start' }>['content_block'],
  ): AnthropicStreamEvent[] {
    const events = this.#closeBlock();
    this.#open = block;
    this.#nextIndex = block.index + 1;
    events.push({ type: 'content_block_start', index: block.index, content_block: contentBlock });
    return events;
  }

  #closeBlock(): AnthropicStreamEvent[] {
    if (this.#open === undefined) return [];
    const { index } = this.#open;
    this.#open = undefined;
    return [{ type: 'content_block_stop', index }];
  }
}

/**
 * An OpenAI chunk stream as Anthropic stream events, translated incrementally. A stream that
 * fails throws from the iterator after the events sent so far (the HTTP edge turns it into an
 * `error` event); a complete one ends with `message_stop`.
 */
export async function* chatStreamToAnthropicEvents(
  stream: AsyncIterable<ChatCompletionChunk>,
  model: string,
): AsyncGenerator<AnthropicStreamEvent> {
  const mapper = new ChatToAnthropicStreamMapper(model);
  for await (const chunk of stream) yield* mapper.map(chunk);
  yield* mapper.end();
}
