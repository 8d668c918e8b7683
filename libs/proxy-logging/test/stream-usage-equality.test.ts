import {
  createGateway,
  type ChatUsage,
  type GatewayPlugin,
  type ProviderRegistry,
  type RequestContext,
} from '@switchyard/proxy-core';
import { BEDROCK_TEST_CREDENTIALS, createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPricingPlugin } from '../src/pricing/pricing-plugin';

// Walks every provider type the gateway registers (built-ins and those landing later),
// so a new adapter is covered the day it lands: the same exchange, streamed and not,
// must report the same usage (cached and reasoning tokens apart) and the same cost.

const MODEL = 'equality-model';
/** How a provider type is pointed at the mock upstream (most take a `baseUrl`). */
function connection(type: string, url: string): Record<string, unknown> {
  if (type === 'azure-openai') return { endpoint: url, apiKey: 'sk-test-equality' };
  if (type === 'bedrock') return { baseUrl: url, region: 'us-east-1', ...BEDROCK_TEST_CREDENTIALS };
  // Mistral's streams carry the usage on their last chunk unasked (it takes no stream_options)
  if (type === 'mistral') return { baseUrl: `${url}/mistral/v1`, apiKey: 'sk-test-equality' };
  return { baseUrl: url, apiKey: 'sk-test-equality' };
}
/** Types with no upstream wire format to compare (the in-process mock answers itself). */
const NO_UPSTREAM = new Set(['mock']);

function registeredTypes(): string[] {
  let types: string[] = [];
  const probe: GatewayPlugin = {
    name: 'test:probe',
    apply: (hooks) =>
      hooks.registerProviders.tap(
        { name: 'test:probe', stage: 100 },
        (registry: ProviderRegistry) => (types = registry.types()),
      ),
  };
  void createGateway({ providers: [], plugins: [probe] }).close();
  return types;
}

async function exchange(
  upstream: MockUpstream,
  type: string,
  stream: boolean,
): Promise<{ usage: ChatUsage | undefined; costUsd: number | null | undefined }> {
  const pricing = createPricingPlugin({
    catalog: 'none',
    models: {
      [`${type}/${MODEL}`]: {
        inputPerMTok: 3,
        outputPerMTok: 15,
        cachedInputPerMTok: 0.3,
        cacheWritePerMTok: 3.75,
        reasoningPerMTok: 20,
      },
    },
  });
  let ended: RequestContext | undefined;
  const recorder: GatewayPlugin = {
    name: 'test:recorder',
    apply: (hooks) => hooks.onRequestEnd.tap('test:recorder', (context) => (ended = context)),
  };
  const gateway = createGateway({
    providers: [{ name: type, type, ...connection(type, upstream.url) }],
    models: [{ name: 'm', targets: [{ provider: type, model: MODEL }] }],
    plugins: [pricing, recorder],
  });
  try {
    const request = { model: 'm', messages: [{ role: 'user' as const, content: 'Hello!' }] };
    if (stream) {
      for await (const chunk of await gateway.stream(request))
        expect(chunk.usage ?? undefined).toBeUndefined();
    } else {
      await gateway.chat(request);
    }
  } finally {
    await gateway.close();
  }
  return { usage: ended?.usage, costUsd: ended?.costUsd };
}

describe.each([
  ['plain usage', undefined],
  [
    'cached and reasoning tokens',
    {
      prompt_tokens: 2006,
      completion_tokens: 300,
      total_tokens: 2306,
      prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 192,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
  ],
])(
  'stream and non-stream usage and cost are equal for every registered provider (%s)',
  (_label, chatUsage) => {
    let upstream: MockUpstream;
    beforeAll(async () => {
      upstream = await createMockUpstream(chatUsage === undefined ? {} : { chatUsage });
    });
    afterAll(async () => upstream.close());

    const types = registeredTypes().filter((type) => !NO_UPSTREAM.has(type));

    it('covers at least the OpenAI adapter', () => {
      expect(types).toContain('openai');
    });

    it.each(types)('%s', async (type) => {
      const whole = await exchange(upstream, type, false);
      const streamed = await exchange(upstream, type, true);
      expect(whole.usage).toBeDefined();
      expect(streamed.usage).toEqual(whole.usage);
      expect(typeof whole.costUsd).toBe('number');
      expect(streamed.costUsd).toBe(whole.costUsd);
    });

    if (chatUsage !== undefined) {
      it('keeps cached and reasoning tokens apart and prices each at its rate (openai)', async () => {
        const { usage, costUsd } = await exchange(upstream, 'openai', true);
        expect(usage?.prompt_tokens_details?.cached_tokens).toBe(1920);
        expect(usage?.completion_tokens_details?.reasoning_tokens).toBe(192);
        // 86 x $3 + 1920 x $0.30 + 108 x $15 + 192 x $20, per million
        expect(costUsd).toBe(0.006294);
      });
    }
  },
);
