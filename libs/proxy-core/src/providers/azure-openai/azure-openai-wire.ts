/**
 * Azure OpenAI's additions to OpenAI's wire format: content-filter annotations on prompts
 * and choices, and stream chunks that carry only those annotations.
 * @see https://learn.microsoft.com/en-us/azure/ai-services/openai/reference
 */

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
