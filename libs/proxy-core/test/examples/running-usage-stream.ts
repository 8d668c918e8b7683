import {
  mapUpstreamStream,
  readNdjson,
  SwitchyardError,
  withUsageSoFar,
  type ChatCompletionChunk,
  type ChatUsage,
  type StreamMapper,
  type UpstreamResponse,
  type UsageSoFar,
} from '@switchyard/proxy-core';

// Acme's v2 stream counts as it goes: every NDJSON line carries the running totals,
// {text, input_tokens, output_tokens} ... {done: true, input_tokens, output_tokens}.

interface AcmeV2Line {
  text?: string;
  done?: boolean;
  input_tokens?: number;
  output_tokens?: number;
}

/** One mapper per stream; it keeps the latest totals, which the gateway reads if the stream is cut. */
export class AcmeV2StreamMapper implements StreamMapper<unknown>, UsageSoFar {
  done = false;
  #usage: ChatUsage | undefined;
  constructor(
    private readonly id: string,
    private readonly model: string,
  ) {}

  usageSoFar(): ChatUsage | undefined {
    return this.#usage;
  }

  map(value: unknown): ChatCompletionChunk[] {
    const line = value as AcmeV2Line;
    if (line.input_tokens !== undefined) {
      const output = line.output_tokens ?? 0;
      // totals, not increments: keep the latest, never add
      this.#usage = {
        prompt_tokens: line.input_tokens,
        completion_tokens: output,
        total_tokens: line.input_tokens + output,
      };
    }
    const base = {
      id: this.id,
      object: 'chat.completion.chunk' as const,
      created: Math.floor(Date.now() / 1000),
      model: this.model,
    };
    if (line.done === true) {
      this.done = true;
      const finish: ChatCompletionChunk = {
        ...base,
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      };
      return this.#usage === undefined ? [finish] : [finish, { ...base, choices: [], usage: this.#usage }];
    }
    return [{ ...base, choices: [{ index: 0, delta: { content: line.text ?? '' }, finish_reason: null }] }];
  }

  end(): ChatCompletionChunk[] {
    if (!this.done)
      throw new SwitchyardError('upstream_stream_error', 'Acme closed the stream before it finished.', {
        provider: 'acme',
      });
    return [];
  }
}

/** What the adapter's `stream()` returns: the chunks, stamped with where their usage so far is read. */
export function acmeV2Stream(
  response: UpstreamResponse,
  provider: string,
  signal: AbortSignal,
  id: string,
  model: string,
): AsyncIterable<ChatCompletionChunk> {
  const mapper = new AcmeV2StreamMapper(id, model);
  return withUsageSoFar(mapUpstreamStream(response, provider, signal, readNdjson, mapper), mapper);
}
