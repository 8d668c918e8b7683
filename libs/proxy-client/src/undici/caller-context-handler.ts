import { AsyncLocalStorage } from 'node:async_hooks';
import type { Dispatcher } from 'undici';

type Controller = Dispatcher.DispatchController;
type Handler = Dispatcher.DispatchHandler;

/**
 * Runs a handler's callbacks in the async context its dispatch was made in. undici calls them
 * in the context of the socket that parsed the response, which is that of the call that first
 * opened the kept-alive connection: an interceptor composed above (undici's redirect) that
 * dispatches again from a callback was routed with that call's run, section and customer, so
 * one run's redirect hop was charged to another's.
 */
export class CallerContextHandler implements Handler {
  readonly #handler: Handler;
  readonly #inCallerContext = AsyncLocalStorage.snapshot();

  constructor(handler: Handler) {
    this.#handler = handler;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#inCallerContext(() => this.#handler.onRequestStart?.(controller, context));
  }

  onRequestUpgrade(...args: Parameters<NonNullable<Handler['onRequestUpgrade']>>): void {
    this.#inCallerContext(() => this.#handler.onRequestUpgrade?.(...args));
  }

  onResponseStart(...args: Parameters<NonNullable<Handler['onResponseStart']>>): void {
    this.#inCallerContext(() => this.#handler.onResponseStart?.(...args));
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#inCallerContext(() => this.#handler.onResponseData?.(controller, chunk));
  }

  onResponseEnd(...args: Parameters<NonNullable<Handler['onResponseEnd']>>): void {
    this.#inCallerContext(() => this.#handler.onResponseEnd?.(...args));
  }

  onResponseError(controller: Controller, error: Error): void {
    this.#inCallerContext(() => this.#handler.onResponseError?.(controller, error));
  }
}
