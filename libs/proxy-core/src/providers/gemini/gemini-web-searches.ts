import type { GeminiGroundingMetadata } from './gemini-wire';

// a lenient read: the universal proxy's meter hands over bodies nobody checked
function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * The Google searches Gemini ran for one exchange (Grounding with Google Search), gathered from
 * the `groundingMetadata` of its candidates: over every candidate, and over the events of a
 * stream, which may repeat the metadata or split it. A search is a distinct non-empty query of
 * `webSearchQueries`, which is how Google counts the searches it bills on Gemini 3 (it ignores
 * the empty ones); a candidate grounded in web pages without naming a query counts as one search.
 * Gemini 2.x and earlier bill each grounded prompt instead: that, and the rates, are the pricing's.
 * The one reading of Gemini's grounding: the adapter (`usage.web_searches`) and the universal
 * proxy's Gemini meter (`@switchyard/proxy-logging`) both count with it.
 * @see https://ai.google.dev/gemini-api/docs/google-search
 * @example
 * const searches = new GeminiWebSearches();
 * for (const event of events) searches.add(event);
 * searches.count; // 2 for webSearchQueries ["UEFA Euro 2024 winner", "who won euro 2024"]
 */
export class GeminiWebSearches {
  readonly #queries = new Set<string>();
  #grounded = false;

  /** Reads one `GenerateContentResponse` (a whole answer or a stream event); anything else adds nothing. */
  add(response: unknown): void {
    const candidates = objectOf(response)?.['candidates'];
    if (!Array.isArray(candidates)) return;
    for (const candidate of candidates as readonly unknown[]) {
      const grounding = objectOf(objectOf(candidate)?.['groundingMetadata']) as Record<keyof GeminiGroundingMetadata, unknown> | undefined;
      if (grounding === undefined) continue;
      const queries = grounding.webSearchQueries;
      if (Array.isArray(queries)) {
        for (const query of queries as readonly unknown[]) if (typeof query === 'string' && query.trim() !== '') this.#queries.add(query);
      }
      const chunks = grounding.groundingChunks;
      // web pages (not a data store's or Maps' places) mean Google Search ran
      if (Array.isArray(chunks) && (chunks as readonly unknown[]).some((chunk) => objectOf(objectOf(chunk)?.['web']) !== undefined)) this.#grounded = true;
      if (objectOf(grounding.searchEntryPoint) !== undefined) this.#grounded = true;
    }
  }

  /** The searches so far: the distinct non-empty queries, else 1 for an answer grounded in web pages, else 0. */
  get count(): number {
    return this.#queries.size > 0 ? this.#queries.size : this.#grounded ? 1 : 0;
  }
}
