/**
 * The loads of one part of a view, of which only the latest counts. Starting a load aborts the
 * one before it: its fetch, and with it the answer that, arriving last, was shown over the newer
 * one's (a slow 30-day range picked before a fast last hour). Closing the view aborts the load
 * running.
 */
export class LatestLoad {
  readonly #view: AbortSignal;
  #current: AbortController | undefined;

  /** `view` aborts when the view closes. */
  constructor(view: AbortSignal) {
    this.#view = view;
  }

  /**
   * Starts a load and aborts the one before. The signal aborts when a newer load starts or the
   * view closes: pass it to the fetch, and show nothing once it has aborted.
   */
  start(): AbortSignal {
    this.#current?.abort();
    const controller = new AbortController();
    this.#current = controller;
    if (this.#view.aborted) controller.abort();
    // removed when this load is aborted, so superseded loads leave no listener on the view
    else
      this.#view.addEventListener('abort', () => controller.abort(), {
        once: true,
        signal: controller.signal,
      });
    return controller.signal;
  }
}
