/** Micro-dollars in a dollar: spend, reservations and budgets are counted in whole micro-dollars. */
export const MICROS_PER_USD = 1_000_000;

/**
 * Whole micro-dollars of a cost or a reservation, rounded up: a budget never counts less than
 * was spent (rounded to nearest, a $0.00000048 embedding counted 0, and 1.4 micro-dollars 1).
 * Float noise around a whole number is that number: `0.000003 * 1e6` may be `3.0000000000000004`,
 * which is 3 micro-dollars, not 4. Zero (and anything negative) is 0.
 */
export function usdToMicrosUp(usd: number): number {
  return microsUp(usd * MICROS_PER_USD);
}

/**
 * A count of micro-dollars made whole, rounded up as {@link usdToMicrosUp} rounds: Redis adds
 * whole numbers only, and a fraction dropped there would be spend forgotten.
 */
export function microsUp(micros: number): number {
  if (!(micros > 0)) return 0;
  const whole = Math.round(micros);
  // a sum of products (tokens times prices) lands a few ulps off a whole number: at $26.95,
  // 26950777.000000004 micro-dollars, past a fixed epsilon, so the noise allowed grows with it
  return Math.abs(micros - whole) <= Math.max(1e-9, micros * 1e-12) ? whole : Math.ceil(micros);
}

/** A key's budget in whole micro-dollars: the nearest (a limit, not spend to round up). */
export function budgetMicros(usd: number): number {
  return Math.round(usd * MICROS_PER_USD);
}
