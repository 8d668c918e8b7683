import type { GeminiGroundingMetadata } from './gemini-wire';

// a lenient read: the universal proxy's meter hands over bodies nobody checked
function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * The Google searches Gemini ran for one exchange (Grounding with Google Search), gathered from
 * the `groundingMetadata` of its candidates: over every candidate, and over the events of a
 * stream, which may repeat the metadata or split it. A search is a distinct non-empty query of
 * `webSearchQueries`, which is how Google counts the searches it bills on Gemini 3 (it ignores
 * the empty ones, so queries that are all empty are no search). Only an answer that names no
 * `webSearchQueries` at all yet carries Google Search Suggestions (`searchEntryPoint`, which
 * Google Search grounding always returns) counts as one search: web `groundingChunks` alone are
 * no proof, the URL context tool returns them too, and it is no search.
 * Gemini 2.x and earlier bill each grounded prompt instead: that, and the rates, are the pricing's.
 * The one reading of Gemini's grounding: the adapter (`usage.web_searches`) and the universal
 * proxy's Gemini meter (`@switchyard/proxy-logging`) both count with it.
 * @see https://ai.google.dev/gemini-api/docs/google-search
 * @see https://ai.google.dev/gemini-api/docs/grounding/search-suggestions
 * @example
 * const searches = new GeminiWebSearches();
 * for (const event of events) searches.add(event);
 * searches.count; // 2 for webSearchQueries ["UEFA Euro 2024 winner", "who won euro 2024"]
 */
export class GeminiWebSearches {
  readonly #queries = new Set<string>();
  // whether any candidate listed webSearchQueries (empty ones included), and whether any carried Search Suggestions
  #listedQueries = false;
  #suggested = false;

  /** Reads one `GenerateContentResponse` (a whole answer or a stream event); anything else adds nothing. */
  add(response: unknown): void {
    const candidates = objectOf(response)?.['candidates'];
    if (!Array.isArray(candidates)) return;
    for (const candidate of candidates as readonly unknown[]) {
      const grounding = objectOf(objectOf(candidate)?.['groundingMetadata']) as
        Record<keyof GeminiGroundingMetadata, unknown> | undefined;
      if (grounding === undefined) continue;
      const queries = grounding.webSearchQueries;
      if (Array.isArray(queries)) {
        this.#listedQueries = true;
        for (const query of queries as readonly unknown[])
          if (typeof query === 'string' && query.trim() !== '') this.#queries.add(query);
      }
      if (objectOf(grounding.searchEntryPoint) !== undefined) this.#suggested = true;
    }
  }

  /** The searches so far: the distinct non-empty queries, else 1 for Search Suggestions with no queries listed, else 0. */
  get count(): number {
    if (this.#queries.size > 0) return this.#queries.size;
    // queries listed but all empty: Google bills none
    return this.#suggested && !this.#listedQueries ? 1 : 0;
  }
}
