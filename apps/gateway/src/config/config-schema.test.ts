import {
  CorsOptionsSchema,
  LimitsOptionsSchema,
  ReadinessOptionsSchema,
  RedisOptionsSchema,
} from '@switchyard/proxy-api';
import type { TObject } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ConfigFileSchema } from './config-schema';

const fieldsOf = (schema: TObject): string[] => Object.keys(schema.properties);

// these sections are handed to createApp as they are, whose options refuse unknown fields: a
// field taken by one side only would be refused by the other
describe('the config sections createApp takes whole', () => {
  it('take every field of its options, and no other', () => {
    const { limits, redis, cors, server } = ConfigFileSchema.properties;
    expect(fieldsOf(limits)).toEqual(fieldsOf(LimitsOptionsSchema));
    expect(fieldsOf(redis)).toEqual(fieldsOf(RedisOptionsSchema));
    expect(fieldsOf(cors)).toEqual(fieldsOf(CorsOptionsSchema));
    expect(fieldsOf(server.properties.readiness)).toEqual(fieldsOf(ReadinessOptionsSchema));
  });

  it("bound redis.commandTimeoutMs as the upstream limiter does (10 ms at least), the rest as createApp's", () => {
    const { redis } = ConfigFileSchema.properties;
    expect(redis.properties.commandTimeoutMs.minimum).toBe(10);
    expect({ ...redis.properties, commandTimeoutMs: undefined }).toEqual({
      ...RedisOptionsSchema.properties,
      commandTimeoutMs: undefined,
    });
  });
});
