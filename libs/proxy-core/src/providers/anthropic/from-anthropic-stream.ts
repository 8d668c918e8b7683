import { SwitchyardError } from '../../errors/switchyard-error';
import { rememberSourceText } from '../../stream/chunk-source-text';
import type { SseEvent } from '../../stream/read-sse';
import type { StreamMapper } from '../../stream/map-upstream-stream';
import type { UsageSoFar } from '../../stream/stream-usage-so-far';
import type { ChatCompletionChunk, ChatDelta, ChatFinishReason, ChatUsage } from '../../wire/openai-chat';
import { anthropicStreamError } from './anthropic-error';
import type { AnthropicStreamEvent, AnthropicUsage } from './anthropic-wire';
import { mapAnthropicFinishReason } from './map-anthropic-finish-reason';
import { firstStop } from './local-stops';
import { mapAnthropicUsage, mergeAnthropicUsage } from './map-anthropic-usage';

/** What follows the text in the JSON of a text chunk (see `#textChunk`). */
const TEXT_CHUNK_END = '},"finish_reason":null}]}';

/**
 * Maps one Anthropic Messages stream to OpenAI chunks, event by event. One instance per
 * stream: it keeps the message id, the usage so far, and which content block is which tool
 * call, so nothing is buffered beyond the current event (but the end of a text that may begin a
 * stop sequence the gateway applies, a character or two).
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
export class AnthropicStreamMapper implements StreamMapper<SseEvent>, UsageSoFar {
  #id = '';
  #model: string;
  readonly #created = Math.floor(Date.now() / 1000);
  #usage: AnthropicUsage = {};
  /** Anthropic content-block index -> OpenAI tool-call index. */
  readonly #toolIndex = new Map<number, number>();
  /** Content blocks of tool calls that streamed some arguments. */
  readonly #withArguments = new Set<number>();
  #finish: ChatFinishReason | null = null;
  #done = false;
  /** The JSON of a text chunk up to its text; made again when `message_start` sets the id and model. */
  #textPrefix: string | undefined;
  /** Stop sequences the gateway applies (see `anthropicStops`); none in the usual case. */
  readonly #stops: readonly string[];
  /** The end of a text block's text so far that begins a stop sequence: held back, sent at the block's end unless the sequence completes. */
  #held = '';
  /** Characters of text and tool arguments received, to bound the output tokens of a stream ended here. */
  #received = 0;

  /**
   * @param stops stop sequences the gateway applies to the text (whitespace only, which
   *   Anthropic refuses): the stream ends where the first of them begins, with finish reason
   *   `stop`, and the upstream call is closed (`done`).
   */
  constructor(
    private readonly provider: string,
    model: string,
    stops: readonly string[] = [],
  ) {
    this.#model = model;
    this.#stops = stops;
  }

  /** Whether the stream is over: `message_stop` arrived, or a stop sequence the gateway applies. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * The usage reported so far, for a stream cut before `message_stop` (whose chunk carries it):
   * the input tokens from `message_start`, the output tokens as of the last `message_delta`
   * (cumulative), or `message_start`'s count (usually 1) before any. Undefined before `message_start`.
   */
  usageSoFar(): ChatUsage | undefined {
    if (this.#usage.input_tokens === undefined && this.#usage.output_tokens === undefined) return undefined;
    return mapAnthropicUsage(this.#usage);
  }

  /** The chunks for one event (none for pings, block stops and thinking). Throws on an `error` event. */
  map(event: SseEvent): ChatCompletionChunk[] {
    if (event.data.length === 0) return [];
    let data: AnthropicStreamEvent;
    try {
      data = JSON.parse(event.data) as AnthropicStreamEvent;
    } catch (cause) {
      throw new SwitchyardError(
        'upstream_stream_error',
        `Provider "${this.provider}" sent an unreadable stream event.`,
        { provider: this.provider, cause },
      );
    }
    switch (data.type) {
      case 'message_start':
        this.#id = data.message.id;
        if (typeof data.message.model === 'string' && data.message.model.length > 0)
          this.#model = data.message.model;
        this.#usage = mergeAnthropicUsage(this.#usage, data.message.usage);
        this.#textPrefix = undefined;
        return [this.#chunk({ role: 'assistant', content: '' })];
      case 'content_block_start': {
        const block = data.content_block;
        if (block.type === 'text') return this.#text(block.text);
        if (block.type === 'tool_use') {
          const index = this.#toolIndex.size;
          this.#toolIndex.set(data.index, index);
          return [
            this.#chunk({
              tool_calls: [
                { index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } },
              ],
            }),
          ];
        }
        return [];
      }
      case 'content_block_delta': {
        const delta = data.delta;
        if (delta.type === 'text_delta') return this.#text(delta.text);
        if (delta.type === 'input_json_delta') {
          const index = this.#toolIndex.get(data.index);
          if (index === undefined || delta.partial_json.length === 0) return [];
          this.#received += delta.partial_json.length;
          this.#withArguments.add(data.index);
          return [this.#chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] })];
        }
        return [];
      }
      case 'content_block_stop': {
        // the text held back at the end of a text block: no stop sequence followed
        if (this.#held.length > 0) return [this.#textChunk(this.#release())];
        // a tool without input streams no input_json_delta (or an empty one): its arguments
        // are "{}" then, as in a whole answer, not "" (which clients fail to JSON.parse)
        const index = this.#toolIndex.get(data.index);
        if (index === undefined || this.#withArguments.has(data.index)) return [];
        return [this.#chunk({ tool_calls: [{ index, function: { arguments: '{}' } }] })];
      }
      case 'message_delta':
        // usage arrives in message_start and message_delta: merge, don't overwrite
        this.#usage = mergeAnthropicUsage(this.#usage, data.usage);
        if (data.delta.stop_reason === null || data.delta.stop_reason === undefined) return [];
        this.#finish = mapAnthropicFinishReason(data.delta.stop_reason);
        if (data.delta.stop_reason === 'stop_sequence' && typeof data.delta.stop_sequence === 'string') {
          const chunk = this.#chunk({}, this.#finish);
          return [
            {
              ...chunk,
              choices: chunk.choices.map((choice) => ({
                ...choice,
                stop_sequence: data.delta.stop_sequence,
              })),
            },
          ];
        }
        return [this.#chunk({}, this.#finish)];
      case 'message_stop':
        this.#done = true;
        return [{ ...this.#base(), choices: [], usage: mapAnthropicUsage(this.#usage) }];
      case 'error':
        throw anthropicStreamError(this.provider, data.error);
      default:
        // ping and event types added later carry nothing to translate
        return [];
    }
  }

  /**
   * The chunks for some text of a text block: all of it without stop sequences to apply; with
   * them, up to the first one (then the stream ends there), holding back an end that begins one
   * (a "\n" when "\n\n" is a stop sequence), for the next delta to complete or the block's end
   * to release. A stop sequence is whitespace, so what is held back never splits a character.
   */
  #text(text: string): ChatCompletionChunk[] {
    if (this.#stops.length === 0) return text.length > 0 ? [this.#textChunk(text)] : [];
    this.#received += text.length;
    const pending = this.#held + text;
    const stop = firstStop(pending, this.#stops);
    if (stop !== undefined) {
      this.#held = '';
      const before = pending.slice(0, stop.index);
      return [...(before.length > 0 ? [this.#textChunk(before)] : []), ...this.#stopHere(stop.sequence)];
    }
    const cut = pending.length - this.#beginning(pending);
    this.#held = pending.slice(cut);
    return cut > 0 ? [this.#textChunk(pending.slice(0, cut))] : [];
  }

  /** How many characters at the end of `text` begin one of the stop sequences (0 when none do). */
  #beginning(text: string): number {
    let longest = 0;
    for (const stop of this.#stops) {
      for (let length = Math.min(stop.length - 1, text.length); length > longest; length -= 1) {
        if (text.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }

  /** The held-back text, now sent. */
  #release(): string {
    const held = this.#held;
    this.#held = '';
    return held;
  }

  /**
   * Ends the stream at a stop sequence the gateway applies, as Anthropic ends it at one it was
   * sent: the finish chunk naming the sequence, then the usage chunk; `done` then stops the
   * reading and closes the upstream call. Anthropic reports the output tokens only at the end,
   * so they are at least what was received (about 4 characters a token) by then.
   */
  #stopHere(sequence: string): ChatCompletionChunk[] {
    this.#finish = 'stop';
    this.#done = true;
    const finish = this.#chunk({}, 'stop');
    const outputTokens = Math.max(this.#usage.output_tokens ?? 0, Math.ceil(this.#received / 4));
    return [
      { ...finish, choices: finish.choices.map((choice) => ({ ...choice, stop_sequence: sequence })) },
      {
        ...this.#base(),
        choices: [],
        usage: mapAnthropicUsage({ ...this.#usage, output_tokens: outputTokens }),
      },
    ];
  }

  /** Called when the body ends: a stream without `message_stop` was cut. */
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
    return { id: this.#id, object: 'chat.completion.chunk', created: this.#created, model: this.#model };
  }

  /**
   * A text chunk, with the JSON text `JSON.stringify` would give it remembered as its source
   * text (see chunk-source-text.ts), so that the HTTP edge writes it instead of serialising
   * the chunk again: the part before the text is the same for every text chunk of the stream,
   * and the text is serialised as it would be inside the chunk.
   */
  #textChunk(text: string): ChatCompletionChunk {
    const chunk = this.#chunk({ content: text });
    this.#textPrefix ??= `${JSON.stringify(this.#base()).slice(0, -1)},"choices":[{"index":0,"delta":{"content":`;
    rememberSourceText(chunk, this.#textPrefix + JSON.stringify(text) + TEXT_CHUNK_END);
    return chunk;
  }

  #chunk(delta: ChatDelta, finish: ChatFinishReason | null = null): ChatCompletionChunk {
    // one literal per chunk: spreading #base() and adding `choices` is a slow path on Node 20
    return {
      id: this.#id,
      object: 'chat.completion.chunk',
      created: this.#created,
      model: this.#model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
  }
}
