import { callUserCallback } from '../options/call-user-callback';
import type { ClientLogger } from '../options/client-logger';
import type { FailOpenEvent } from './gateway-routing-options';

/**
 * Fail-open bookkeeping: once the gateway is found unreachable, calls go direct for a
 * cool-down, and the warning is emitted once per outage (not once per call). The logger and
 * `onFailOpen` are the application's: a throw of theirs is reported, never let into the call.
 */
export class GatewayAvailability {
  #downUntilMs = 0;
  #inOutage = false;

  constructor(
    private readonly gatewayUrl: string,
    private readonly retryGatewayAfterMs: number,
    private readonly logger: ClientLogger,
    private readonly onFailOpen: ((event: FailOpenEvent) => void) | undefined,
  ) {}

  /** False while a detected outage's cool-down runs: the call should go direct at once. */
  shouldTryGateway(): boolean {
    return Date.now() >= this.#downUntilMs;
  }

  /** Records that the gateway could not be reached for a call to `target`. */
  markUnreachable(target: string, errorCode: string): void {
    this.#downUntilMs = Date.now() + this.retryGatewayAfterMs;
    if (this.#inOutage) return;
    this.#inOutage = true;
    const event: FailOpenEvent = {
      gatewayUrl: this.gatewayUrl,
      target,
      errorCode,
      retryGatewayAfterMs: this.retryGatewayAfterMs,
    };
    callUserCallback('logger.warn', () =>
      this.logger.warn(event, 'Switchyard gateway unreachable: calls go direct to the provider (fail-open)'),
    );
    const onFailOpen = this.onFailOpen;
    if (onFailOpen !== undefined) callUserCallback('onFailOpen', () => onFailOpen(event));
  }

  /** Records that the gateway answered; ends an outage. */
  markReachable(): void {
    this.#downUntilMs = 0;
    if (!this.#inOutage) return;
    this.#inOutage = false;
    callUserCallback('logger.info', () =>
      this.logger.info(
        { gatewayUrl: this.gatewayUrl },
        'Switchyard gateway reachable again: calls go through it',
      ),
    );
  }
}
