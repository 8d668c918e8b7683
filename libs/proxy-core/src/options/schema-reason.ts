import type { TSchema } from '@sinclair/typebox';

/**
 * The schema keyword holding a bound's reason (see {@link withReason}). A symbol registered by
 * name, as TypeBox's own `Kind`: JSON Schema consumers (Ajv, `JSON.stringify`) never see it, and
 * two copies of this package read each other's.
 */
export const SchemaReason: unique symbol = Symbol.for('switchyard.schema.reason');

/**
 * Why a value is refused by its schema's floor or ceiling, as the problem line's text after
 * `path: `; undefined to keep TypeBox's own line (a value the reason does not explain).
 */
export type SchemaReasonFunction = (value: unknown) => string | undefined;

/** A schema, with the reason of its bound a schema may carry. */
type Reasoned = TSchema & { [SchemaReason]?: SchemaReasonFunction };

/**
 * A copy of `schema` whose refused bounds (minimum, maximum, exclusive ones, lengths, item
 * counts) explain themselves: `schemaProblems` words the problem line of a value past them with
 * `reason(value)` instead of TypeBox's "Expected integer to be less or equal to ...", which names
 * the bound but not why there is one.
 * @example
 * const Floor = withReason(Type.Integer({ minimum: 900_000 }), (value) =>
 *   typeof value === 'number' && value < 900_000 ? `${value} ms is below the lease's time to live` : undefined);
 */
export function withReason<T extends TSchema>(schema: T, reason: SchemaReasonFunction): T {
  return { ...schema, [SchemaReason]: reason };
}

/** The reason `schema` gives for `value` past its bound, if it has one that explains it. */
export function reasonOf(schema: TSchema, value: unknown): string | undefined {
  const reason = (schema as Reasoned)[SchemaReason];
  return typeof reason === 'function' ? reason(value) : undefined;
}
