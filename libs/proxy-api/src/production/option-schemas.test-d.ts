import type { Static } from '@sinclair/typebox';
import { describe, expectTypeOf, it } from 'vitest';
import type { LimitsOptionsSchema, LimitsOptions } from '../limits/limits-options';
import type { RedisOptionsSchema, RedisOptions } from '../redis/redis-options';
import type {
  CorsOptions,
  CorsOptionsSchema,
  KeyCacheOptions,
  KeyCacheSchema,
  ReadinessOptions,
  ReadinessOptionsSchema,
} from './production-options';

// The schemas refuse unknown fields (createApp's, the gateway's config file's): an option added to
// an interface and not to its schema would be refused, one added to a schema only would not be typed.
describe('the option schemas', () => {
  it('take each serialisable field of their options, with its type', () => {
    expectTypeOf<Static<typeof LimitsOptionsSchema>>().toEqualTypeOf<Omit<LimitsOptions, 'costEstimator'>>();
    expectTypeOf<Static<typeof RedisOptionsSchema>>().toEqualTypeOf<Omit<RedisOptions, 'client'>>();
    expectTypeOf<Static<typeof CorsOptionsSchema>>().toEqualTypeOf<CorsOptions>();
    expectTypeOf<Static<typeof ReadinessOptionsSchema>>().toEqualTypeOf<ReadinessOptions>();
    expectTypeOf<Static<typeof KeyCacheSchema>>().toEqualTypeOf<KeyCacheOptions>();
  });
});
