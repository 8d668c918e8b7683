import type { MeteredUsage } from '../usage/metered-usage';

/**
 * The units of `usage` its cost leaves out (see `MeteredUsage.alternativeUnits`): of each group of
 * units that count the same use, every counted one but the unit billed, the first with a rate
 * in `rates`, else the first counted, whose missing rate then makes the cost unknown.
 */
export function unbilledAlternativeUnits(
  usage: MeteredUsage,
  rates: Readonly<Record<string, number>> | undefined,
): Set<string> {
  const unbilled = new Set<string>();
  for (const group of usage.alternativeUnits ?? []) {
    const counted = group.filter((unit) => (usage.units[unit] ?? 0) > 0);
    const billed = counted.find((unit) => rates?.[unit] !== undefined) ?? counted[0];
    for (const unit of counted) if (unit !== billed) unbilled.add(unit);
  }
  return unbilled;
}
