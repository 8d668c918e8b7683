import { SwitchyardError } from '../../errors/switchyard-error';
import type { StreamMapper } from '../../stream/map-upstream-stream';
import type { ChatCompletionChunk, ChatDelta, ChatFinishReason } from '../../wire/openai-chat';
import { bedrockStreamError } from './bedrock-error';
import type { BedrockStreamMessage, BedrockStreamPayloads } from './bedrock-wire';
import { mapBedrockFinishReason } from './map-bedrock-finish-reason';
import { mapBedrockUsage } from './map-bedrock-usage';

/**
 * Maps one ConverseStream to OpenAI chunks, event by event. One instance per stream: it
 * keeps which content block is which tool call and whether the stop arrived, so nothing is
 * buffered beyond the current event. `metadata` (usage) follows `messageStop` and ends it.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 */
export class BedrockStreamMapper implements StreamMapper<BedrockStreamMessage> {
  /** Converse content-block index -> OpenAI tool-call index. */
  readonly #toolIndex = new Map<number, number>();
  /** Content blocks of tool calls that streamed some input. */
  readonly #withArguments = new Set<number>();
  #finish: ChatFinishReason | null = null;
  #done = false;

  constructor(
    private readonly provider: string,
    private readonly model: string,
    private readonly id: string,
    private readonly created: number,
  ) {}

  /** Whether `metadata`, the last event, arrived. */
  get done(): boolean {
    return this.#done;
  }

  map(message: BedrockStreamMessage): ChatCompletionChunk[] {
    if (message.messageType !== 'event') {
      throw bedrockStreamError(
        this.provider,
        message.type,
        message.messageType === 'error' ? message.payload : this.#exceptionMessage(message.payload),
      );
    }
    switch (message.type) {
      case 'messageStart':
        return [this.#chunk({ role: 'assistant', content: '' })];
      case 'contentBlockStart': {
        const payload = this.#payload<'contentBlockStart'>(message);
        const start = payload.start?.toolUse;
        if (start === undefined) return [];
        const index = this.#toolIndex.size;
        this.#toolIndex.set(payload.contentBlockIndex, index);
        return [
          this.#chunk({
            tool_calls: [
              { index, id: start.toolUseId, type: 'function', function: { name: start.name, arguments: '' } },
            ],
          }),
        ];
      }
      case 'contentBlockDelta': {
        const payload = this.#payload<'contentBlockDelta'>(message);
        const delta = payload.delta ?? {};
        if (typeof delta.text === 'string')
          return delta.text.length > 0 ? [this.#chunk({ content: delta.text })] : [];
        if (delta.toolUse !== undefined) {
          const index = this.#toolIndex.get(payload.contentBlockIndex);
          const input = delta.toolUse.input ?? '';
          if (index === undefined || input.length === 0) return [];
          this.#withArguments.add(payload.contentBlockIndex);
          return [this.#chunk({ tool_calls: [{ index, function: { arguments: input } }] })];
        }
        // reasoning deltas and delta kinds added later carry no answer text
        return [];
      }
      case 'contentBlockStop': {
        // a tool without input may stream no toolUse delta: its arguments are "{}" then, as in
        // a whole answer, not "" (which clients fail to JSON.parse)
        const block = this.#payload<'contentBlockStop'>(message).contentBlockIndex;
        const index = this.#toolIndex.get(block);
        if (index === undefined || this.#withArguments.has(block)) return [];
        return [this.#chunk({ tool_calls: [{ index, function: { arguments: '{}' } }] })];
      }
      case 'messageStop':
        this.#finish = mapBedrockFinishReason(this.#payload<'messageStop'>(message).stopReason) ?? 'stop';
        return [this.#chunk({}, this.#finish)];
      case 'metadata': {
        this.#done = true;
        const usage = this.#payload<'metadata'>(message).usage;
        return usage === undefined ? [] : [{ ...this.#base(), choices: [], usage: mapBedrockUsage(usage) }];
      }
      default:
        // event types added later carry nothing to translate
        return [];
    }
  }

  /** A stream without `messageStop` was cut; one without `metadata` after it just has no usage. */
  end(): ChatCompletionChunk[] {
    if (this.#finish === null) {
      throw new SwitchyardError(
        'upstream_stream_error',
        `Provider "${this.provider}" closed the stream before it finished.`,
        { provider: this.provider },
      );
    }
    return [];
  }

  #payload<K extends keyof BedrockStreamPayloads>(message: BedrockStreamMessage): BedrockStreamPayloads[K] {
    try {
      return JSON.parse(message.payload) as BedrockStreamPayloads[K];
    } catch (cause) {
      throw new SwitchyardError(
        'upstream_stream_error',
        `Provider "${this.provider}" sent an unreadable stream event.`,
        { provider: this.provider, cause },
      );
    }
  }

  #exceptionMessage(payload: string): string | undefined {
    try {
      const body = JSON.parse(payload) as { message?: unknown; Message?: unknown };
      const message = body.message ?? body.Message;
      return typeof message === 'string' ? message : undefined;
    } catch {
      return payload.length > 0 ? payload.slice(0, 500) : undefined;
    }
  }

  #base(): Omit<ChatCompletionChunk, 'choices'> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model };
  }

  #chunk(delta: ChatDelta, finish: ChatFinishReason | null = null): ChatCompletionChunk {
    return { ...this.#base(), choices: [{ index: 0, delta, finish_reason: finish }] };
  }
}
