import { createGatewayHooks, SwitchyardError } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { createPricingPlugin } from './pricing-plugin';

// the beforeRequest taps of a pricing plugin applied to fresh hooks
function requestTaps(plugin: ReturnType<typeof createPricingPlugin>): string[] {
  const hooks = createGatewayHooks();
  plugin.apply(hooks);
  expect(hooks.onUsage.taps.map((tap) => tap.name)).toEqual(['switchyard:pricing']);
  return hooks.beforeRequest.taps.map((tap) => tap.name);
}

describe('pricing plugin', () => {
  it("reads each request (Perplexity's web_search_options) only when the gateway may have a Perplexity provider", () => {
    // providers not known (a gateway built by hand): as before, every request
    expect(requestTaps(createPricingPlugin())).toEqual(['switchyard:pricing']);
    expect(requestTaps(createPricingPlugin({}, { providerTypes: ['openai', 'perplexity'] }))).toEqual([
      'switchyard:pricing',
    ]);
    // no Perplexity: nothing to read, no tap on the request path
    expect(requestTaps(createPricingPlugin({}, { providerTypes: ['openai', 'gemini'] }))).toEqual([]);
    expect(requestTaps(createPricingPlugin({}, { providerTypes: [] }))).toEqual([]);
  });

  it('refuses provider types that are not a list of names', () => {
    const refused = (providerTypes: unknown): unknown => {
      try {
        createPricingPlugin({}, { providerTypes: providerTypes as string[] });
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const value of ['perplexity', [1], null])
      expect(refused(value)).toMatchObject({ code: 'invalid_options' });
    expect(refused(['openai'])).toBeUndefined();
    expect(refused('openai,perplexity')).toBeInstanceOf(SwitchyardError);
  });
});
