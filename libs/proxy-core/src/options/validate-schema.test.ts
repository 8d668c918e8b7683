import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, timerDelayProblem, timerDelaySchema } from './max-timer';
import { SchemaReason, withReason } from './schema-reason';
import { schemaProblems } from './validate-schema';

const floorReason = (value: unknown): string | undefined =>
  typeof value === 'number' && value < 100
    ? `${value} is below the floor of 100: a shorter one would stop holding`
    : undefined;
const Floor = withReason(Type.Integer({ minimum: 100 }), floorReason);

describe('schemaProblems with a reason on a bound', () => {
  it('words a floor annotated with a reason by the reason, at its own path and prefix', () => {
    const schema = Type.Object({ limits: Type.Optional(Type.Object({ lifetimeMs: Type.Optional(Floor) })) });
    expect(schemaProblems(schema, { limits: { lifetimeMs: 5 } }, 'app')).toEqual([
      'app/limits/lifetimeMs: 5 is below the floor of 100: a shorter one would stop holding',
    ]);
    expect(schemaProblems(schema, { limits: { lifetimeMs: 100 } })).toEqual([]);
  });

  it("keeps TypeBox's line for what the reason does not explain: a wrong type, a value it returns nothing for", () => {
    expect(schemaProblems(Floor, 'soon')).toEqual(['/: Expected integer']);
    expect(schemaProblems(timerDelaySchema({ minimum: 1 }), 3_000_000_000.5)).toEqual([
      '/: Expected integer',
    ]);
    expect(schemaProblems(timerDelaySchema({ minimum: 1 }), 0)).toEqual([
      '/: Expected integer to be greater or equal to 1',
    ]);
    const silent = withReason(Type.Integer({ maximum: 10 }), () => undefined);
    expect(schemaProblems(silent, 11)).toEqual(['/: Expected integer to be less or equal to 10']);
  });

  it('explains a timer delay past MAX_TIMER_MS (Node fires it after 1 ms), and allows MAX_TIMER_MS itself', () => {
    const schema = Type.Object({ flushIntervalMs: Type.Optional(timerDelaySchema({ minimum: 1 })) });
    expect(schemaProblems(schema, { flushIntervalMs: 3_000_000_000 })).toEqual([
      `/flushIntervalMs: ${timerDelayProblem(3_000_000_000)}`,
    ]);
    expect(schemaProblems(schema, { flushIntervalMs: MAX_TIMER_MS })).toEqual([]);
  });

  it('explains only bounds annotated with a reason: a maximum of MAX_TIMER_MS alone is not taken for a timer', () => {
    expect(schemaProblems(Type.Integer({ maximum: MAX_TIMER_MS }), 3_000_000_000)).toEqual([
      '/: Expected integer to be less or equal to 2147483647',
    ]);
  });

  it('explains a union by the member the value fails only for reasons of (0 or a period), else keeps the union line', () => {
    const schema = Type.Object({
      periodMs: Type.Union([Type.Literal(0), timerDelaySchema({ minimum: 5000 })]),
    });
    expect(schemaProblems(schema, { periodMs: 3_000_000_000 })).toEqual([
      `/periodMs: ${timerDelayProblem(3_000_000_000)}`,
    ]);
    expect(schemaProblems(schema, { periodMs: 1000 })).toEqual(['/periodMs: Expected union value']);
  });

  it("explains a union of objects by the field of the member it was meant for, at the field's path", () => {
    const common = {
      commandTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
      keyPrefix: Type.Optional(Type.String()),
    };
    const schema = Type.Object({
      redis: Type.Union([
        Type.Object({ url: Type.String(), ...common }, { additionalProperties: false }),
        Type.Object({ nodes: Type.Array(Type.String()), ...common }, { additionalProperties: false }),
      ]),
    });
    expect(
      schemaProblems(schema, { redis: { url: 'redis://r', commandTimeoutMs: 3_000_000_000 } }, 'cache'),
    ).toEqual([`cache/redis/commandTimeoutMs: ${timerDelayProblem(3_000_000_000)}`]);
    // another problem in the member: which one was meant is no clearer than before
    expect(
      schemaProblems(schema, { redis: { url: 'redis://r', commandTimeoutMs: 3_000_000_000, keyPrefix: 5 } }),
    ).toEqual(['/redis: Expected union value']);
  });

  it('keeps the reason out of the JSON Schema: a registered symbol, carried through Type.Optional', () => {
    const schema = Type.Object({ lifetimeMs: Type.Optional(Floor) });
    expect(JSON.parse(JSON.stringify(schema.properties.lifetimeMs))).toEqual({
      type: 'integer',
      minimum: 100,
    });
    expect(SchemaReason).toBe(Symbol.for('switchyard.schema.reason'));
    expect(Reflect.get(schema.properties.lifetimeMs, SchemaReason)).toBe(floorReason);
  });
});
