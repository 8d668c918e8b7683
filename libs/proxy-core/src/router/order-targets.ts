import type { ResolvedRoute, RouteTarget } from './route-types';

/**
 * The order in which a route's targets are tried: `ordered` keeps configuration order;
 * `weighted` draws without replacement, each draw proportional to weight.
 */
export function orderTargets(route: ResolvedRoute, random: () => number = Math.random): RouteTarget[] {
  if (route.strategy === 'ordered' || route.targets.length < 2) return [...route.targets];
  const pool = [...route.targets];
  const ordered: RouteTarget[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, target) => sum + target.weight, 0);
    let pick = random() * total;
    let index = 0;
    for (; index < pool.length - 1; index++) {
      pick -= (pool[index] as RouteTarget).weight;
      if (pick < 0) break;
    }
    ordered.push(...pool.splice(index, 1));
  }
  return ordered;
}
