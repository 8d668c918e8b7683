import type { Dispatcher } from 'undici';
import { SwitchyardClientError } from '../errors/switchyard-client-error';
import type { GatewayRouter } from '../routing/gateway-router';
import { gatewayUnreachableCode } from '../routing/gateway-unreachable-code';

type Controller = Dispatcher.DispatchController;

/**
 * Forwards a gateway attempt's events to the caller's handler. When the gateway cannot be
 * connected to before any response: failing open, calls `goDirect` instead of reporting the
 * error; failing closed, reports an `upstream_connection_error`.
 */
export class GatewayAttemptHandler implements Dispatcher.DispatchHandler {
  #responded = false;

  constructor(
    private readonly handler: Dispatcher.DispatchHandler,
    private readonly router: GatewayRouter,
    private readonly target: string,
    private readonly canGoDirect: () => boolean,
    private readonly goDirect: () => void,
  ) {}

  onRequestStart(controller: Controller, context: unknown): void {
    this.handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestUpgrade']>>[2],
    socket: Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestUpgrade']>>[3],
  ): void {
    this.#responded = true;
    this.handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[2],
    statusMessage?: string,
  ): void {
    this.#responded = true;
    this.router.availability.markReachable();
    this.handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(
    controller: Controller,
    trailers: Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseEnd']>>[1],
  ): void {
    this.handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller, error: Error): void {
    const code = this.#responded ? undefined : gatewayUnreachableCode(error);
    if (code !== undefined && this.router.failOpen && this.canGoDirect()) {
      this.router.availability.markUnreachable(this.target, code);
      this.goDirect();
      return;
    }
    if (code !== undefined && !this.router.failOpen) {
      const message = `The Switchyard gateway at ${this.router.gatewayUrl} is unreachable (${code}).`;
      this.handler.onResponseError?.(
        controller,
        new SwitchyardClientError('upstream_connection_error', message, { cause: error }),
      );
      return;
    }
    this.handler.onResponseError?.(controller, error);
  }
}
