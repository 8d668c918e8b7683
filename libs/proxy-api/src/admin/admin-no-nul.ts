/**
 * A JSON Schema `pattern` that refuses the NUL character, for admin inputs bound for a SQL
 * store: PostgreSQL refuses NUL in `text` (an error, not a verdict on the value), and no
 * stored value holds one, so such an input is a 400 before the handler runs.
 */
export const NO_NUL = '^[^\\u0000]*$';
