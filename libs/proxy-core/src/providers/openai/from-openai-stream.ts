import type { ChatCompletionChunk } from '../../wire/openai-chat';
import type { TextCompletion } from '../../wire/openai-completions';
import { SwitchyardError } from '../../errors/switchyard-error';
import { rememberSourceText } from '../../stream/chunk-source-text';
import type { StreamMapper } from '../../stream/map-upstream-stream';
import type { SseEvent } from '../../stream/read-sse';
import { openAIStreamError } from './openai-error';
import { isStreamErrorData, readHostCacheHits } from './openai-wire';

/** Fills what some compatible hosts leave out of a chat chunk. */
export function toChatChunk(data: ChatCompletionChunk): ChatCompletionChunk {
  // most hosts send both: the parsed chunk is then used as it is (a copy would have the same
  // keys in the same order), not copied per chunk
  if (data.object === 'chat.completion.chunk' && Array.isArray(data.choices)) return data;
  return { ...data, object: 'chat.completion.chunk', choices: data.choices ?? [] };
}

/** Fills what some compatible hosts leave out of a `text_completion` chunk. */
export function toTextCompletionChunk(data: TextCompletion): TextCompletion {
  if (data.object === 'text_completion' && Array.isArray(data.choices)) return data;
  return { ...data, object: 'text_completion', choices: data.choices ?? [] };
}

/** What an upstream request asked of its stream, which decides when a stream without `[DONE]` finished. */
export interface OpenAIStreamExpectation {
  /** The choices asked for (`n`): each has to finish. */
  readonly choices: number;
  /** Whether the request asked for the usage chunk (`stream_options.include_usage`). */
  readonly usage: boolean;
}

/** OpenAI's ceiling on `n`: a larger one is refused upstream, and bounds what a stream tracks. */
const MAX_CHOICES = 128;

/** What the body sent upstream (after a host's unsupported parameters were removed) expects of its stream. */
export function openAIStreamExpectation(body: Readonly<Record<string, unknown>>): OpenAIStreamExpectation {
  const n = body['n'];
  const options = body['stream_options'];
  return {
    choices: typeof n === 'number' && Number.isInteger(n) && n > 1 ? Math.min(n, MAX_CHOICES) : 1,
    usage:
      typeof options === 'object' &&
      options !== null &&
      (options as { include_usage?: unknown }).include_usage === true,
  };
}

/** The fields of a chunk the mapper reads to know whether the stream finished. */
interface FinishingChunk {
  choices?: ReadonlyArray<{ index?: number; finish_reason?: string | null }> | null;
  usage?: unknown;
}

/**
 * Maps one OpenAI-compatible stream's SSE events to chunks (chat chunks, or `text_completion`
 * chunks of `/completions`). One instance per stream: it remembers whether the stream ended
 * properly so a cut stream is never taken as done.
 *
 * `[DONE]` ends a stream. Some compatible hosts close the body after the last chunk without
 * it; such a body finished when every choice asked for (`n`) sent its `finish_reason`, and,
 * when the request asked for usage and the host showed it honours that, the usage arrived.
 * A host honours `include_usage` by sending `"usage": null` on the chunks before the usage
 * chunk, as OpenAI documents; hosts that ignore the option send no `usage` key and would
 * never send the chunk, so only the first kind is held to it: the rest keep ending without
 * `[DONE]` or usage, as they always did. A host that ignores `n` and sends one choice has to
 * send `[DONE]` when asked for several.
 */
export class OpenAIStreamMapper<TChunk extends FinishingChunk = ChatCompletionChunk> implements StreamMapper<
  SseEvent,
  TChunk
> {
  #done = false;
  /** The choices that have not sent their `finish_reason` yet. */
  #unfinished: number;
  /** Which choices finished, by index; only when several are expected (one needs no index). */
  readonly #finishedChoices: Uint8Array | undefined;
  readonly #usageAsked: boolean;
  /** Whether a chunk carried `"usage": null`: the host sends the usage chunk. */
  #usagePromised = false;
  #usageArrived = false;
  readonly #provider: string;
  readonly #shape: (data: TChunk) => TChunk;

  constructor(provider: string, shape: (data: TChunk) => TChunk, expectation: OpenAIStreamExpectation) {
    this.#provider = provider;
    this.#shape = shape;
    this.#unfinished = expectation.choices;
    this.#finishedChoices = expectation.choices > 1 ? new Uint8Array(expectation.choices) : undefined;
    this.#usageAsked = expectation.usage;
  }

  /** Whether `[DONE]` arrived. */
  get done(): boolean {
    return this.#done;
  }

  /** The chunk of one event; none for `[DONE]` and comments. Throws on an error event. */
  map(event: SseEvent): TChunk[] {
    if (event.data === '[DONE]') {
      this.#done = true;
      return [];
    }
    if (event.data.length === 0) return [];
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch (cause) {
      throw new SwitchyardError(
        'upstream_stream_error',
        `Provider "${this.#provider}" sent an unreadable stream event.`,
        {
          provider: this.#provider,
          cause,
        },
      );
    }
    if (isStreamErrorData(data)) throw openAIStreamError(this.#provider, data.error);
    const chunk = data as TChunk;
    const choices = chunk.choices;
    if (this.#unfinished > 0 && Array.isArray(choices)) {
      for (let i = 0; i < choices.length; i++) {
        const choice = choices[i] as { index?: number; finish_reason?: string | null };
        if (choice.finish_reason !== null && choice.finish_reason !== undefined) this.#finish(choice.index);
      }
    }
    const usage = chunk.usage;
    if (usage === null) this.#usagePromised = true;
    else if (usage !== undefined) {
      this.#usageArrived = true;
      readHostCacheHits(usage);
    }
    const shaped = this.#shape(chunk);
    // the parsed object as it came: the HTTP edge may write the upstream's text for it
    if (shaped === chunk) rememberSourceText(chunk, event.data);
    return [shaped];
  }

  /** Called when the body ends: a stream that neither sent `[DONE]` nor finished (see the class) was cut. */
  end(): TChunk[] {
    if (this.#done) return [];
    if (this.#unfinished > 0) {
      throw new SwitchyardError(
        'upstream_stream_error',
        `Provider "${this.#provider}" closed the stream before it finished.`,
        {
          provider: this.#provider,
        },
      );
    }
    if (this.#usageAsked && this.#usagePromised && !this.#usageArrived) {
      throw new SwitchyardError(
        'upstream_stream_error',
        `Provider "${this.#provider}" closed the stream before its usage chunk.`,
        {
          provider: this.#provider,
        },
      );
    }
    return [];
  }

  /** Marks a choice finished: with one choice expected, any choice's end is the stream's. */
  #finish(index: number | undefined): void {
    const finished = this.#finishedChoices;
    if (finished === undefined) {
      this.#unfinished = 0;
      return;
    }
    // a host that numbers no choices sends one at a time; an index out of range is not one asked for
    const at = typeof index === 'number' ? index : 0;
    if (at >= 0 && at < finished.length && finished[at] === 0) {
      finished[at] = 1;
      this.#unfinished--;
    }
  }
}
