import { SwitchyardError } from '../../errors/switchyard-error';
import type { SseEvent } from '../../stream/read-sse';
import type { StreamMapper } from '../../stream/map-upstream-stream';
import type { UsageSoFar } from '../../stream/stream-usage-so-far';
import type { ChatCompletionChunk, ChatDelta, ChatFinishReason, ChatUsage } from '../../wire/openai-chat';
import {
  geminiBlockedError,
  geminiFinishError,
  mapGeminiFinishReason,
  mapGeminiUsage,
  withGeminiWebSearches,
} from './from-gemini-response';
import { geminiStreamError } from './gemini-error';
import { mapGeminiLogprobs, type ChatLogprobs, type LogprobsAsked } from './gemini-logprobs';
import { geminiToolCallId } from './gemini-tool-call-id';
import { citationKey, geminiUrlCitations } from './gemini-url-citations';
import { GeminiWebSearches } from './gemini-web-searches';
import { isGeminiErrorBody, type GeminiResponse } from './gemini-wire';

/** What the stream has sent so far for one candidate (one OpenAI choice). */
interface ChoiceState {
  toolCalls: number;
  finish: ChatFinishReason | null;
  /** The content so far, kept only to place the citations of a grounded answer. */
  text?: string;
  /** The citations sent (`citationKey`), each sent once however often the grounding repeats. */
  cited?: Set<string>;
}

/**
 * Maps the events of one `streamGenerateContent?alt=sse` stream to OpenAI chunks. Each event
 * is a whole `GenerateContentResponse` holding the next piece of each candidate (several with
 * `candidateCount`, i.e. `n`), and each candidate is the choice of its `index`; usage is
 * cumulative, so the last one counts and is sent once, in a final chunk, after the finish reasons.
 * With `citations` (a request that asked Gemini to search), each choice's text is kept, and the
 * web sources its grounding gives are sent as `delta.annotations` in the chunk of the event that
 * carried them, their spans read against the choice's whole text so far (the stream's answer is
 * one part, whatever pieces it came in).
 * @see https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 */
export class GeminiStreamMapper implements StreamMapper<SseEvent>, UsageSoFar {
  /** Candidate index -> its choice's state, from its first piece on. */
  readonly #choices = new Map<number, ChoiceState>();
  #usage: ChatUsage | undefined;
  // grounding may come in any event, repeated or split: gathered over the whole stream
  readonly #searches = new GeminiWebSearches();
  #model: string;

  constructor(
    private readonly provider: string,
    model: string,
    private readonly id: string,
    private readonly created: number,
    private readonly options: { citations?: boolean; logprobs?: LogprobsAsked } = {},
  ) {
    this.#model = model;
  }

  get done(): boolean {
    return false;
  }

  /**
   * The usage of the latest event that carried one, for a stream cut before its end (whose
   * usage chunk `end()` makes): every event's `usageMetadata` is the running total, so it is
   * what was used up to that event, with the Google searches the events so far reported.
   * Undefined before any event carried usage.
   */
  usageSoFar(): ChatUsage | undefined {
    return this.#usage === undefined ? undefined : withGeminiWebSearches(this.#usage, this.#searches);
  }

  map(event: SseEvent): ChatCompletionChunk[] {
    if (event.data.length === 0) return [];
    let data: GeminiResponse;
    try {
      data = JSON.parse(event.data) as GeminiResponse;
    } catch (cause) {
      throw new SwitchyardError(
        'upstream_stream_error',
        `Provider "${this.provider}" sent an unreadable stream event.`,
        { provider: this.provider, cause },
      );
    }
    if (isGeminiErrorBody(data)) throw geminiStreamError(this.provider, data.error);
    if (data.promptFeedback?.blockReason !== undefined && (data.candidates ?? []).length === 0) {
      throw geminiBlockedError(this.provider, data.promptFeedback.blockReason);
    }
    if (data.modelVersion !== undefined) this.#model = data.modelVersion;
    // usage is cumulative in every event: keep the latest, never add
    if (data.usageMetadata !== undefined) this.#usage = mapGeminiUsage(data.usageMetadata);
    this.#searches.add(data);
    const chunks: ChatCompletionChunk[] = [];
    for (const [position, candidate] of (data.candidates ?? []).entries()) {
      const choice = candidate.index ?? position;
      let state = this.#choices.get(choice);
      const delta: ChatDelta = {};
      if (state === undefined) {
        state = {
          toolCalls: 0,
          finish: null,
          ...(this.options.citations === true ? { text: '', cited: new Set<string>() } : {}),
        };
        this.#choices.set(choice, state);
        delta.role = 'assistant';
      }
      for (const part of candidate.content?.parts ?? []) {
        if (part.thought === true) continue;
        if (typeof part.text === 'string' && part.text.length > 0) {
          delta.content = (delta.content ?? '') + part.text;
          if (state.text !== undefined) state.text += part.text;
        }
        if (part.functionCall !== undefined) {
          const index = state.toolCalls++;
          (delta.tool_calls ??= []).push({
            index,
            id: geminiToolCallId(
              part.functionCall.id ??
                (choice === 0 ? `call_${this.id}_${index}` : `call_${this.id}_${choice}_${index}`),
              part.thoughtSignature,
            ),
            type: 'function',
            function: {
              name: part.functionCall.name,
              arguments: JSON.stringify(part.functionCall.args ?? {}),
            },
          });
        }
      }
      if (
        state.text !== undefined &&
        state.cited !== undefined &&
        candidate.groundingMetadata !== undefined
      ) {
        const cited = state.cited;
        const annotations = geminiUrlCitations([state.text], candidate.groundingMetadata).filter(
          (citation) => {
            const key = citationKey(citation);
            if (cited.has(key)) return false;
            cited.add(key);
            return true;
          },
        );
        if (annotations.length > 0) delta.annotations = annotations;
      }
      const logprobs = mapGeminiLogprobs(candidate.logprobsResult, this.options.logprobs);
      if (Object.keys(delta).length > 0 || logprobs !== undefined)
        chunks.push(this.#chunk(choice, delta, null, logprobs));
      const failed = geminiFinishError(this.provider, candidate.finishReason, 'upstream_stream_error');
      if (failed !== undefined) throw failed;
      const finish = mapGeminiFinishReason(candidate.finishReason, state.toolCalls > 0);
      if (finish !== null && state.finish === null) {
        state.finish = finish;
        chunks.push(this.#chunk(choice, {}, finish));
      }
    }
    return chunks;
  }

  end(): ChatCompletionChunk[] {
    const states = [...this.#choices.values()];
    if (states.length === 0 || states.some((state) => state.finish === null)) {
      throw new SwitchyardError(
        'upstream_stream_error',
        `Provider "${this.provider}" closed the stream before it finished.`,
        { provider: this.provider },
      );
    }
    return this.#usage === undefined
      ? []
      : [{ ...this.#base(), choices: [], usage: withGeminiWebSearches(this.#usage, this.#searches) }];
  }

  #base(): Omit<ChatCompletionChunk, 'choices'> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.#model };
  }

  #chunk(
    choice: number,
    delta: ChatDelta,
    finish: ChatFinishReason | null,
    logprobs?: ChatLogprobs,
  ): ChatCompletionChunk {
    return {
      ...this.#base(),
      choices: [
        { index: choice, delta, ...(logprobs === undefined ? {} : { logprobs }), finish_reason: finish },
      ],
    };
  }
}
