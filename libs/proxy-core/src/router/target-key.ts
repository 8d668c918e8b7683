import type { RouteTarget } from './route-types';

// a route table's targets are frozen: each one's key is made once, not per attempt
const frozenKeys = new WeakMap<object, string>();

/** The identity of a target across aliases: `provider/model`. Breakers, limiters and stats are keyed by it. */
export function targetKey(target: Pick<RouteTarget, 'provider' | 'model'>): string {
  let key = frozenKeys.get(target);
  if (key === undefined) {
    key = `${target.provider}/${target.model}`;
    if (Object.isFrozen(target)) frozenKeys.set(target, key);
  }
  return key;
}
