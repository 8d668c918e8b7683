/**
 * Azure OpenAI's additions to OpenAI's wire format: content-filter annotations on prompts
 * and choices, and stream chunks that carry only those annotations.
 * @see https://learn.microsoft.com/en-us/azure/ai-services/openai/reference
 */

import type { ChatCompletionChunk } from '../../wire/openai-chat';
import type { TextCompletion } from '../../wire/openai-completions';

/** One content-filter category result. */
export interface AzureContentFilterResult {
  filtered: boolean;
  severity?: string;
  detected?: boolean;
}

/** Content-filter results keyed by category (hate, sexual, violence, self_harm, ...). */
export type AzureContentFilterResults = Record<string, AzureContentFilterResult | undefined>;

/** Whether a stream chunk only carries prompt annotations (no choices, no usage). */
export function isAnnotationOnlyChunk(value: { choices?: unknown[]; usage?: unknown }): boolean {
  return (
    (value.choices === undefined || value.choices.length === 0) &&
    (value.usage === undefined || value.usage === null)
  );
}

/** A stream choice as Azure may send it: an annotation choice has no `delta` (nor `text`). */
interface AzureStreamChoice {
  delta?: unknown;
  text?: unknown;
  finish_reason?: string | null;
}

const hasBody = (choice: AzureStreamChoice): boolean =>
  (choice.delta !== undefined && choice.delta !== null) || typeof choice.text === 'string';

/**
 * A stream chunk without the choices that carry only content-filter annotations, which the
 * asynchronous filter sends before, amid and after the content, with `content_filter_offsets`
 * and `content_filter_results` but no `delta` (or `text`). One that ends its choice (the
 * filter's delayed refusal, `finish_reason: content_filter`) is kept, with the empty body a
 * client reads. The chunk itself when every choice has a body.
 * @see https://learn.microsoft.com/azure/foundry/openai/concepts/content-streaming
 */
export function withoutAnnotationChoices<TChunk extends ChatCompletionChunk | TextCompletion>(
  chunk: TChunk,
): TChunk {
  const choices = chunk.choices as readonly AzureStreamChoice[];
  if (choices.every(hasBody)) return chunk;
  const body = chunk.object === 'text_completion' ? { text: '' } : { delta: {} };
  const kept: AzureStreamChoice[] = [];
  for (const choice of choices) {
    if (hasBody(choice)) kept.push(choice);
    else if (choice.finish_reason !== null && choice.finish_reason !== undefined)
      kept.push({ ...choice, ...body });
  }
  return { ...chunk, choices: kept };
}
