import type { RouteTarget } from './route-types';

/** The identity of a target across aliases: `provider/model`. Breakers, limiters and stats are keyed by it. */
export function targetKey(target: Pick<RouteTarget, 'provider' | 'model'>): string {
  return `${target.provider}/${target.model}`;
}
