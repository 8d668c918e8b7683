/** Number formatting shared by the views. */
export const integer = (value: number): string => Math.round(value).toLocaleString('en-US');

export function usd(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (value !== 0 && Math.abs(value) < 0.01) return `$${value.toPrecision(2)}`;
  return `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)}%`;
}

/**
 * A time in UTC, as the CLI, the gateway's logs and the admin API's ISO times give it
 * (`2026-01-31 14:02:03`): the same for every admin reading it, wherever they are, and without
 * the hour a local clock repeats when daylight saving ends. Labelled `UTC` with `zone`; a table
 * says it in its column header instead.
 */
export function time(epochMs: number, zone = true): string {
  const text = new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ');
  return zone ? `${text} UTC` : text;
}

/** What a cost sum leaves out: requests with usage but no known price, and their tokens. */
export interface Unpriced {
  unpriced_requests: number;
  unpriced_input_tokens?: number;
  unpriced_output_tokens?: number;
}

/**
 * A sum of USD with the requests it could not price beside it (`$1.23 + 4 unpriced`): summed as
 * $0 they made the spend look complete.
 */
export function spend(costUsd: number, unpriced: Unpriced): string {
  return `${usd(costUsd)}${unpricedSuffix(unpriced)}`;
}

/** What {@link spend} puts after the sum (` + 4 unpriced`); empty when every request was priced. */
export function unpricedSuffix(unpriced: Unpriced): string {
  const count = unpriced.unpriced_requests;
  return count === 0 ? '' : ` + ${integer(count)} unpriced`;
}

/** Why a spend says "unpriced", for its tooltip; undefined when nothing is. */
export function unpricedNote(unpriced: Unpriced): string | undefined {
  const count = unpriced.unpriced_requests;
  if (count === 0) return undefined;
  const tokens =
    unpriced.unpriced_input_tokens === undefined || unpriced.unpriced_output_tokens === undefined
      ? ''
      : ` (${integer(unpriced.unpriced_input_tokens)} input / ${integer(unpriced.unpriced_output_tokens)} output tokens)`;
  return `${integer(count)} request${count === 1 ? '' : 's'} with usage but no known price${tokens}: not in the sum.`;
}

export const orDash = (value: string | number | null | undefined): string =>
  value === null || value === undefined || value === '' ? '–' : String(value);

/** Time ranges offered everywhere, in milliseconds. */
export const RANGES: readonly (readonly [string, string])[] = [
  ['3600000', 'Last hour'],
  ['21600000', 'Last 6 hours'],
  ['86400000', 'Last 24 hours'],
  ['604800000', 'Last 7 days'],
  ['2592000000', 'Last 30 days'],
];
