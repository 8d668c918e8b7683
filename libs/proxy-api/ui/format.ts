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

export function time(epochMs: number): string {
  return new Date(epochMs).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' });
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
