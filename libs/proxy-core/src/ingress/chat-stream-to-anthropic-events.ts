import { randomUUID } from 'node:crypto';
import { madeUpToolUseId, toolCallIdOf } from './tool-use-id';
import type { AnthropicStreamEvent } from '../providers/anthropic/anthropic-wire';
import { SwitchyardError } from '../errors/switchyard-error';
import { deltaOf } from '../stream/chunk-delta';
import type { ChatCompletionChunk, ChatToolCallDelta, ChatUsage } from '../wire/openai-chat';
import { anthropicMessageId } from './chat-to-anthropic-message';
import { mapChatUsageToAnthropic } from './map-chat-usage-to-anthropic';
import { mapFinishReasonToAnthropic } from './map-finish-reason-to-anthropic';

type OpenBlock = { kind: 'text'; index: number } | { kind: 'tool'; index: number; call: ToolCall };

/** One tool call of the stream (an OpenAI `tool_calls[].index`). */
interface ToolCall {
  id: string | undefined;
  /** The id the provider gave it (none yet, or never: `id` is then made up when its block starts). */
  sourceId: string | undefined;
  name: string | undefined;
  /** Its arguments so far (only ever appended to). */
  args: string;
  /** Whether they are whole yet, read as they grow. */
  end: ArgumentsEnd;
  /** `content_block_stop` was sent: nothing more may follow for it. */
  closed: boolean;
}

/** Content that arrived while a tool call's block was open and unfinished, sent after it as whole blocks. */
type Held = { kind: 'text'; text: string } | { kind: 'tool'; call: ToolCall };

/**
 * A tool call's name with a later fragment's: OpenAI sends the name whole in a call's first
 * fragment, but OpenAI-compatible servers also split it (`get_`, `weather`) or repeat it, whole
 * or as it grows, in later fragments; the official SDKs differ (Python appends, Node replaces), so
 * a fragment that starts with the name so far replaces it, and any other is appended.
 */
function joinedName(name: string | undefined, fragment: string | undefined): string | undefined {
  if (fragment === undefined || fragment.length === 0) return name;
  if (name === undefined || fragment.startsWith(name)) return fragment;
  return name + fragment;
}

/**
 * The index of a choice or tool call fragment: 0 when a host leaves it out (hosts that number
 * none send one choice, one call at a time).
 */
function indexOf(item: { index?: number }): number {
  return item.index ?? 0;
}

/**
 * Whether a tool call's arguments, which only grow, are a whole JSON value yet. Each call scans
 * only what was added since the last one (strings, escapes, nesting) and parses the arguments
 * only once an object or array they open has closed, or when they open none (a bare value):
 * parsing them at every fragment would cost the square of a long call's arguments (a file a
 * tool writes, in thousands of fragments). The parse decides, so the answer is `complete`'s.
 */
export class ArgumentsEnd {
  #scanned = 0;
  /** Whether the arguments open an object or array; undefined before their first character. */
  #container: boolean | undefined;
  #depth = 0;
  #inString = false;
  #escaped = false;

  whole(args: string): boolean {
    for (let i = this.#scanned; i < args.length && this.#container !== false; i++) {
      const char = args[i];
      if (this.#container === undefined) {
        if (char === ' ' || char === '\n' || char === '\r' || char === '\t') continue;
        this.#container = char === '{' || char === '[';
        if (!this.#container) break;
      }
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (char === '\\') this.#escaped = true;
        else if (char === '"') this.#inString = false;
      } else if (char === '"') this.#inString = true;
      else if (char === '{' || char === '[') this.#depth += 1;
      else if (char === '}' || char === ']') this.#depth -= 1;
    }
    this.#scanned = args.length;
    if (this.#container === undefined) return false;
    if (this.#container && (this.#depth !== 0 || this.#inString)) return false;
    return complete(args);
  }
}

/** Whether a tool call's arguments so far are a whole JSON value: the call is complete. */
function complete(args: string): boolean {
  if (args.trim() === '') return false;
  try {
    JSON.parse(args);
    return true;
  } catch {
    return false;
  }
}

/**
 * Maps one OpenAI chunk stream to Anthropic Messages stream events, chunk by chunk. One
 * instance per stream: it keeps the open content block, which tool call is which block, and
 * the finish reason and usage, which Anthropic reports together in `message_delta` at the end
 * (OpenAI's usage chunk comes after the finish chunk). A `refusal` delta streams as text, and
 * makes `stop_reason` `refusal`.
 *
 * Anthropic's blocks never interleave: a block's deltas all come between its
 * `content_block_start` and `content_block_stop`, and the next block starts after that stop.
 * OpenAI's chunks may interleave the fragments of parallel tool calls (and text). So a tool
 * call's block stays open until its arguments are a whole JSON value; text or another call that
 * arrives before then is held, and sent as whole blocks, in the order it arrived, once the
 * stream ends. Calls that arrive one after the other (OpenAI's own order) are streamed as they
 * come; a call's block starts with its first arguments (or whatever follows the call), as its
 * name may arrive in pieces before them.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
export class ChatToAnthropicStreamMapper {
  #started = false;
  #open: OpenBlock | undefined;
  #nextIndex = 0;
  /** OpenAI tool-call index -> the call. */
  readonly #calls = new Map<number, ToolCall>();
  /** What waits for the open tool call's block to close. */
  readonly #held: Held[] = [];
  /** The last call to arrive, not started yet: it waits for its first arguments (or what follows it). */
  #pending: ToolCall | undefined;
  #finish: string | null = null;
  #stopSequence: string | null = null;
  /** The model refused (OpenAI's `refusal` text): its text is the answer and `stop_reason` is `refusal`. */
  #refused = false;
  #usage: ChatUsage | undefined;

  /**
   * @param model The model to report until a chunk names one (the model the client asked for).
   */
  constructor(private readonly model: string) {}

  /** The events for one chunk: `message_start` and a `ping` before the first, then block events. */
  map(chunk: ChatCompletionChunk): AnthropicStreamEvent[] {
    const events: AnthropicStreamEvent[] = [];
    if (!this.#started) events.push(...this.#start(chunk.id, chunk.model));
    if (chunk.usage !== undefined && chunk.usage !== null) this.#usage = chunk.usage;
    const choice = chunk.choices.find((candidate) => indexOf(candidate) === 0);
    if (choice === undefined) return events;
    const delta = deltaOf(choice);
    const text = delta.content;
    if (typeof text === 'string' && text.length > 0) this.#text(text, events);
    // OpenAI streams a refusal apart from the content: an Anthropic client reads it as the text
    const refusal = delta.refusal;
    if (typeof refusal === 'string' && refusal.length > 0) {
      this.#refused = true;
      this.#text(refusal, events);
    }
    for (const fragment of delta.tool_calls ?? []) this.#toolFragment(fragment, events);
    // a chunk that leaves the reason out (an empty delta beside the usage) keeps the one sent
    const finish: string | null | undefined = choice.finish_reason;
    if (finish !== null && finish !== undefined) {
      this.#finish = finish;
      if (typeof choice.stop_sequence === 'string') this.#stopSequence = choice.stop_sequence;
    }
    return events;
  }

  /** The closing events once the chunk stream has ended: the last blocks, `message_delta`, `message_stop`. */
  end(): AnthropicStreamEvent[] {
    const events: AnthropicStreamEvent[] = this.#started ? [] : this.#start('', this.model);
    events.push(...this.#blocksLeft());
    const stopReason = this.#refused
      ? 'refusal'
      : mapFinishReasonToAnthropic(this.#finish, this.#stopSequence, this.#calls.size > 0);
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

  /**
   * The events of a stream that failed before its end, before its error event: the open block
   * closed and what was held sent, as an Anthropic stream has sent its blocks when it fails; no
   * `message_delta` or `message_stop`, which only a complete stream has.
   */
  interrupted(): AnthropicStreamEvent[] {
    return this.#started ? this.#blocksLeft() : [];
  }

  /** The open block's stop, then each held text or tool call as a whole block. */
  #blocksLeft(): AnthropicStreamEvent[] {
    const events: AnthropicStreamEvent[] = [];
    this.#openPending(events);
    events.push(...this.#closeBlock());
    for (const held of this.#held.splice(0)) {
      if (held.kind === 'text') {
        events.push(...this.#openBlock({ kind: 'text', index: this.#nextIndex }, { type: 'text', text: '' }));
        events.push(this.#textDelta(held.text));
      } else {
        events.push(...this.#openTool(held.call));
        if (held.call.args.length > 0) events.push(this.#argsDelta(held.call.args));
      }
      events.push(...this.#closeBlock());
    }
    return events;
  }

  /** Whether new content must wait: a tool call's block is open and its arguments are not whole yet. */
  #mustHold(): boolean {
    if (this.#held.length > 0) return true;
    const open = this.#open;
    return open?.kind === 'tool' && !open.call.end.whole(open.call.args);
  }

  #text(text: string, events: AnthropicStreamEvent[]): void {
    this.#openPending(events);
    if (this.#open?.kind === 'text') {
      events.push(this.#textDelta(text));
      return;
    }
    if (this.#mustHold()) {
      const last = this.#held.at(-1);
      if (last?.kind === 'text') last.text += text;
      else this.#held.push({ kind: 'text', text });
      return;
    }
    events.push(...this.#openBlock({ kind: 'text', index: this.#nextIndex }, { type: 'text', text: '' }));
    events.push(this.#textDelta(text));
  }

  #toolFragment(fragment: ChatToolCallDelta, events: AnthropicStreamEvent[]): void {
    // the Messages request offers functions only (custom tools have no Anthropic form)
    if (fragment.type === 'custom' || fragment.custom !== undefined)
      throw new SwitchyardError(
        'upstream_stream_error',
        'The provider streamed a call of a custom tool, which the request did not offer.',
      );
    const args = fragment.function?.arguments ?? '';
    const index = indexOf(fragment);
    const id = toolCallIdOf(fragment.id);
    let call = this.#calls.get(index);
    if (call !== undefined && this.#startsAnother(call, id, fragment.function?.name, args)) call = undefined;
    if (call === undefined) {
      // a new call: the one waiting for its arguments has its whole name now
      this.#openPending(events);
      call = {
        id,
        sourceId: id,
        name: fragment.function?.name,
        args: '',
        end: new ArgumentsEnd(),
        closed: false,
      };
      this.#calls.set(index, call);
      if (this.#mustHold()) {
        call.args = args;
        this.#held.push({ kind: 'tool', call });
        return;
      }
      // the block before it is done (a call's arguments are whole, or text): nothing more joins it
      events.push(...this.#closeBlock());
      this.#pending = call;
    } else if (call === this.#pending || !this.#sent(call)) {
      // a call not sent yet takes what arrives later, its id and name too
      call.id ??= id;
      call.sourceId ??= id;
      call.name = joinedName(call.name, fragment.function?.name);
    }
    if (args.length === 0) return;
    if (call === this.#pending) {
      this.#pending = undefined;
      events.push(...this.#openTool(call));
    }
    if (call.closed || call.end.whole(call.args)) {
      // its arguments are whole (its block may have closed): only whitespace may follow them
      if (args.trim() === '') return;
      throw new SwitchyardError(
        'upstream_stream_error',
        'The provider sent more of a tool call after its arguments were complete.',
      );
    }
    call.args += args;
    if (this.#open?.kind === 'tool' && this.#open.call === call) events.push(this.#argsDelta(args));
  }

  /**
   * Whether a fragment under a known call's index is another call: hosts that number every
   * parallel call 0 (Ollama's OpenAI endpoint), or none, send the next one under the same index.
   * Joined to the first, the two would make one `tool_use` of `{...}{...}`. While the call's
   * arguments are unfinished, a fragment is another call only with a name and an id of its own
   * (some hosts make up a new id for every fragment of one call); once they are whole, one with a
   * new id and something in it, or, from a host that sends no ids, one with a name and arguments.
   * The same id again (arguments resent) is more of the same call, which ends the stream.
   */
  #startsAnother(call: ToolCall, id: string | undefined, name: string | undefined, args: string): boolean {
    const named = name !== undefined && name.length > 0;
    const newId = id !== undefined && call.sourceId !== undefined && id !== call.sourceId;
    if (newId && named) return true;
    if (args.trim() === '' || !(newId || (named && id === undefined))) return false;
    return call.end.whole(call.args);
  }

  /** Whether a call's block was started: its name and id can no longer change. */
  #sent(call: ToolCall): boolean {
    return call.closed || (this.#open?.kind === 'tool' && this.#open.call === call);
  }

  /**
   * Starts the block of the call that waits for its first arguments: its name may still arrive
   * in fragments until then, and a block's name is sent once, in its `content_block_start`.
   */
  #openPending(events: AnthropicStreamEvent[]): void {
    const call = this.#pending;
    if (call === undefined) return;
    this.#pending = undefined;
    events.push(...this.#openTool(call));
  }

  #openTool(call: ToolCall): AnthropicStreamEvent[] {
    const index = this.#nextIndex;
    const id = call.id ?? madeUpToolUseId();
    call.id = id;
    return this.#openBlock(
      { kind: 'tool', index, call },
      { type: 'tool_use', id, name: call.name ?? '', input: {} },
    );
  }

  #textDelta(text: string): AnthropicStreamEvent {
    return {
      type: 'content_block_delta',
      index: (this.#open as OpenBlock).index,
      delta: { type: 'text_delta', text },
    };
  }

  #argsDelta(partial: string): AnthropicStreamEvent {
    return {
      type: 'content_block_delta',
      index: (this.#open as OpenBlock).index,
      delta: { type: 'input_json_delta', partial_json: partial },
    };
  }

  /** `message_start` and a `ping`; a chunk's id and model may be missing (a lenient host's first chunk). */
  #start(id: unknown, model: unknown): AnthropicStreamEvent[] {
    this.#started = true;
    const message = {
      id: anthropicMessageId(typeof id === 'string' && id.length > 0 ? id : randomUUID().replaceAll('-', '')),
      type: 'message' as const,
      role: 'assistant' as const,
      model: typeof model === 'string' && model.length > 0 ? model : this.model,
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
    const open = this.#open;
    if (open === undefined) return [];
    if (open.kind === 'tool') open.call.closed = true;
    this.#open = undefined;
    return [{ type: 'content_block_stop', index: open.index }];
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
  try {
    for await (const chunk of stream) yield* mapper.map(chunk);
  } catch (error) {
    // what arrived before the failure reaches the client, held content included
    yield* mapper.interrupted();
    throw error;
  }
  yield* mapper.end();
}
