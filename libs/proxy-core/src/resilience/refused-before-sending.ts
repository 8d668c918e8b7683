import { isSwitchyardError } from '../errors/switchyard-error';

/**
 * Whether an attempt's failure is its adapter refusing the request before sending anything: an
 * error made with `beforeSending` (a translator's `unsupported_feature` or `invalid_request`, as
 * `unsupportedFeature()` and `invalidRequest()` make them). Such an attempt called no one: it is
 * recorded `called: false`, gives its limiter slot back, and its breaker counts it as neither
 * success nor failure. The code alone says nothing of it: an adapter may raise `invalid_request`
 * after the upstream answered.
 */
export function refusedBeforeSending(error: unknown): boolean {
  return isSwitchyardError(error) && error.beforeSending === true;
}
