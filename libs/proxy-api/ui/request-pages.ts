/** A query of the admin API as `api()` takes it. */
export type Query = Record<string, string | number | undefined>;

/**
 * The pages of one applied request log query, newest first: a page step moves only the
 * cursor. The query stays as it was applied: filters typed since but not applied (or a time
 * range recomputed from the clock) with the previous query's cursor asked for another result
 * than the one being paged through, and rows were skipped.
 */
export class QueryPages {
  readonly #query: Query;
  /** The cursor of each page known so far (the first page has none). */
  readonly #cursors: (string | undefined)[] = [undefined];
  #page = 0;

  constructor(query: Query) {
    this.#query = { ...query };
  }

  /** The page shown, 0 for the first. */
  get page(): number {
    return this.#page;
  }

  /** The query of the page shown: the applied query with that page's cursor. */
  query(): Query {
    return { ...this.#query, cursor: this.#cursors[this.#page] };
  }

  /** Takes the next page's cursor from the answer to the page shown (null: it was the last). */
  found(nextCursor: string | null): void {
    this.#cursors.length = this.#page + 1;
    if (nextCursor !== null) this.#cursors.push(nextCursor);
  }

  /** Moves `by` pages, never before the first nor to a page whose cursor is not known. */
  step(by: number): void {
    this.#page = Math.min(Math.max(this.#page + by, 0), this.#cursors.length - 1);
  }
}
