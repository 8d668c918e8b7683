import { isSwitchyardError } from '../errors/switchyard-error';

/**
 * Whether an attempt's failure is its adapter refusing the request before sending anything: a
 * translator's `unsupported_feature` (a feature this target cannot serve) or `invalid_request`
 * (a request field it cannot translate), with no upstream status. Such an attempt called no one:
 * it is recorded `called: false`, gives its limiter slot back, and its breaker counts it as
 * neither success nor failure. An error the upstream answered carries its status and is not one.
 */
export function refusedBeforeSending(error: unknown): boolean {
  return (
    isSwitchyardError(error) &&
    (error.code === 'unsupported_feature' || error.code === 'invalid_request') &&
    error.upstreamStatus === undefined
  );
}
