import { BUILTIN_MODELS } from '@switchyard/proxy-context';
import { lookupGenaiPrice } from '@switchyard/proxy-logging';
import { describe, expect, it } from 'vitest';

// The catalog's prices rank routes and size budgets before a call; the pricing registry
// bills it after. They must tell the same story. Peak hours: DeepSeek is cheaper at night.
const at = new Date('2026-11-30T12:00:00Z');

describe('the model catalog against the pricing registry', () => {
  const known = BUILTIN_MODELS.flatMap((model) => {
    const entry = lookupGenaiPrice(model.provider, model.id, at);
    return entry === undefined ? [] : [{ model, entry }];
  });

  it('finds most of the catalog in the registry', () => {
    expect(known.length).toBeGreaterThanOrEqual(BUILTIN_MODELS.length - 2);
  });

  it.each(known.map(({ model, entry }) => [`${model.provider}/${model.id}`, model, entry] as const))(
    '%s has the registry price',
    (_, model, entry) => {
      expect(model.pricing?.inputPerMTokUsd).toBe(entry.price.inputPerMTok);
      expect(model.pricing?.outputPerMTokUsd).toBe(entry.price.outputPerMTok);
      if (model.pricing?.cachedInputPerMTokUsd !== undefined)
        expect(model.pricing.cachedInputPerMTokUsd).toBe(entry.price.cachedInputPerMTok);
    },
  );
});
