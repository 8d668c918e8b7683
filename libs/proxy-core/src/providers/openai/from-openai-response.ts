import type { ChatCompletion } from '../../wire/openai-chat';
import type { TextCompletion } from '../../wire/openai-completions';
import type { EmbeddingResponse } from '../../wire/openai-embeddings';
import { SwitchyardError } from '../../errors/switchyard-error';
import { rememberResponseText } from '../../stream/chunk-source-text';
import { isChatCompletionBody, readHostCacheHits } from './openai-wire';

/**
 * Normalises an OpenAI-compatible response: checks its shape and fills the fields some
 * compatible hosts omit (`object`, `created`, the requested model). A body with nothing to
 * fill is the response itself, and keeps `text` (what it was parsed from) as its source text.
 */
export function fromOpenAIResponse(
  body: unknown,
  provider: string,
  model: string,
  text?: string,
): ChatCompletion {
  if (!isChatCompletionBody(body)) {
    throw new SwitchyardError(
      'upstream_error',
      `Provider "${provider}" sent a body that is not a chat completion.`,
      { provider },
    );
  }
  readHostCacheHits(body.usage);
  if (
    body.object === 'chat.completion' &&
    typeof body.created === 'number' &&
    typeof body.model === 'string' &&
    body.model.length > 0
  ) {
    if (text !== undefined) rememberResponseText(body, text);
    return body;
  }
  return {
    ...body,
    object: 'chat.completion',
    created: typeof body.created === 'number' ? body.created : Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' && body.model.length > 0 ? body.model : model,
  };
}

/**
 * Normalises a legacy `/completions` body: checks its shape, fills `object`, `created`, the
 * requested model and a null `logprobs` where a host leaves them out.
 * @see https://platform.openai.com/docs/api-reference/completions/object
 */
export function fromOpenAICompletion(body: unknown, provider: string, model: string): TextCompletion {
  if (!isChatCompletionBody(body)) {
    throw new SwitchyardError(
      'upstream_error',
      `Provider "${provider}" sent a body that is not a text completion.`,
      { provider },
    );
  }
  const record = body as unknown as TextCompletion;
  readHostCacheHits(record.usage);
  return {
    ...record,
    object: 'text_completion',
    created: typeof record.created === 'number' ? record.created : Math.floor(Date.now() / 1000),
    model: typeof record.model === 'string' && record.model.length > 0 ? record.model : model,
    choices: record.choices.map((choice, index) => ({
      text: typeof choice.text === 'string' ? choice.text : '',
      index: typeof choice.index === 'number' ? choice.index : index,
      logprobs: choice.logprobs ?? null,
      finish_reason: choice.finish_reason ?? null,
    })),
  };
}

/**
 * Normalises an OpenAI-compatible embeddings body; some hosts (Voyage) report only
 * `usage.total_tokens`, which then stands for the prompt tokens too.
 */
export function fromOpenAIEmbeddings(body: unknown, provider: string, model: string): EmbeddingResponse {
  const record = (typeof body === 'object' && body !== null ? body : {}) as Partial<EmbeddingResponse> & {
    usage?: Partial<EmbeddingResponse['usage']>;
  };
  if (!Array.isArray(record.data)) {
    throw new SwitchyardError(
      'upstream_error',
      `Provider "${provider}" sent a body that is not an embedding list.`,
      { provider },
    );
  }
  const total = record.usage?.total_tokens ?? record.usage?.prompt_tokens ?? 0;
  return {
    object: 'list',
    data: record.data,
    model: typeof record.model === 'string' && record.model.length > 0 ? record.model : model,
    usage: { prompt_tokens: record.usage?.prompt_tokens ?? total, total_tokens: total },
  };
}
