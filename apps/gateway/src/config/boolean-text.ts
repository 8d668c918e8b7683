const TRUE = ['1', 'true', 'yes'];
const FALSE = ['0', 'false', 'no'];

/** How a boolean may be written in the environment, for messages. */
export const BOOLEAN_WORDS = '1, true, yes or 0, false, no';

/**
 * A boolean written as text (an environment variable, a `${VAR}` substitution): `1`, `true`,
 * `yes` or `0`, `false`, `no`, any case, around spaces; undefined for anything else. One
 * spelling for every place the environment sets a boolean, so `SWITCHYARD_ALLOW_OPEN=1` and
 * `allowOpen: "${ALLOW_OPEN}"` accept the same values.
 */
export function parseBooleanText(text: string): boolean | undefined {
  const lower = text.trim().toLowerCase();
  if (TRUE.includes(lower)) return true;
  if (FALSE.includes(lower)) return false;
  return undefined;
}
