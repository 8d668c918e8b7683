import { channel } from 'node:diagnostics_channel';
import {
  createGateway,
  createRequestContext,
  SwitchyardError,
  type ChatCompletion,
  type Gateway,
} from '@switchyard/proxy-core';
import { createMockUpstream, UNTIL_SETTLED, type MockUpstream } from '@switchyard/testing';
import { AggregatorRegistry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMetrics, type SwitchyardMetrics } from './create-metrics';

async function value(
  metrics: SwitchyardMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find(
    (v) =>
      Object.entries(labels).every(([k, l]) => v.labels[k] === l) &&
      (!('metricName' in v) || v.metricName === name || v.metricName === undefined),
  );
  return sample?.value ?? 0;
}

describe('createMetrics', () => {
  let upstream: MockUpstream;
  let gateway: Gateway;
  let metrics: SwitchyardMetrics;
  beforeEach(async () => {
    upstream = await createMockUpstream();
    metrics = createMetrics();
    gateway = createGateway({
      providers: [
        {
          name: 'primary',
          type: 'openai',
          baseUrl: `${upstream.url}/v1`,
          apiKey: 'sk-canary-provider-000000000000',
        },
        { name: 'mock', type: 'mock' },
      ],
      models: [
        { name: 'gpt', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] },
        { name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] },
      ],
      plugins: [metrics.plugin],
    });
  });
  afterEach(async () => {
    metrics.close();
    await gateway.close();
    await upstream.close();
  });

  it('counts requests, tokens and overhead with bounded labels', async () => {
    await gateway.chat({ model: 'demo', messages: [{ role: 'user', content: 'hello there' }] });
    await expect(
      gateway.chat({ model: 'client-chosen-model-name', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toThrow();
    expect(
      await value(metrics, 'switchyard_requests_total', {
        route: 'chat',
        provider: 'mock',
        model: 'demo',
        status: '200',
      }),
    ).toBe(1);
    expect(await value(metrics, 'switchyard_requests_total', { model: 'unrouted', status: '404' })).toBe(1);
    expect(await value(metrics, 'switchyard_request_errors_total', { code: 'model_not_found' })).toBe(1);
    expect(
      await value(metrics, 'switchyard_tokens_total', { direction: 'input', model: 'demo' }),
    ).toBeGreaterThan(0);
    const { body } = await metrics.scrape();
    expect(body).toContain('switchyard_overhead_seconds_count{route="chat"} 2');
    expect(body).not.toContain('client-chosen-model-name');
  });

  it('writes the series it bound for a route, provider and model again on the next request, in first-write order', async () => {
    for (let i = 0; i < 3; i++)
      await gateway.chat({ model: 'demo', messages: [{ role: 'user', content: 'hello there' }] });
    await expect(
      gateway.chat({ model: 'other', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toThrow();
    await expect(
      gateway.chat({ model: 'other', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toThrow();
    const { body } = await metrics.scrape();
    const lines = body
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('switchyard_requests_total') ||
          line.startsWith('switchyard_request_duration_seconds_count'),
      );
    expect(lines).toEqual([
      'switchyard_requests_total{route="chat",provider="mock",model="demo",status="200"} 3',
      'switchyard_requests_total{route="chat",provider="none",model="unrouted",status="404"} 2',
      'switchyard_request_duration_seconds_count{route="chat",provider="mock",model="demo"} 3',
      'switchyard_request_duration_seconds_count{route="chat",provider="none",model="unrouted"} 2',
    ]);
    expect(
      await value(metrics, 'switchyard_tokens_total', {
        direction: 'output',
        provider: 'mock',
        model: 'demo',
      }),
    ).toBeGreaterThan(2);
  });

  it("counts a cache hit under its model's alias, with no provider and no upstream or provider series", async () => {
    const hits = createMetrics();
    const answered = createGateway({
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      plugins: [
        hits.plugin,
        {
          name: 'cache',
          apply(hooks) {
            // a cache that answers every request after the first, as the response cache does
            let first: ChatCompletion | undefined;
            hooks.onResponseReceived.tap('cache', (response) => void (first ??= response));
            hooks.lookupResponse.tapPromise('cache', async (_request, context) => {
              if (first === undefined) return undefined;
              context.upstreamModel = 'echo';
              return { kind: 'response', response: structuredClone(first) };
            });
          },
        },
      ],
    });
    try {
      const request = { model: 'demo', messages: [{ role: 'user' as const, content: 'hello there' }] };
      await answered.chat(request);
      await answered.chat(request);
      await answered.chat(request);
      const { body } = await hits.scrape();
      const lines = body.split('\n');
      expect(lines).toContain(
        'switchyard_requests_total{route="chat",provider="mock",model="demo",status="200"} 1',
      );
      expect(lines).toContain(
        'switchyard_requests_total{route="chat",provider="none",model="demo",status="200"} 2',
      );
      expect(lines).toContain('switchyard_cache_hits_total{route="chat",model="demo"} 2');
      expect(body).not.toContain('unrouted');
      expect(
        await value(hits, 'switchyard_upstream_attempts_total', { provider: 'mock', outcome: 'ok' }),
      ).toBe(1);
      expect(await value(hits, 'switchyard_upstream_attempts_total', { provider: 'none' })).toBe(0);
      expect(
        await value(hits, 'switchyard_upstream_duration_seconds', { provider: 'none', model: 'demo' }),
      ).toBe(0);
    } finally {
      hits.close();
      await answered.close();
    }
  });

  it('counts upstream error classes per code', async () => {
    upstream.fault({ kind: 'status', status: 500, times: 10 });
    await expect(
      gateway.chat({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(SwitchyardError);
    expect(
      await value(metrics, 'switchyard_upstream_errors_total', {
        provider: 'primary',
        code: 'upstream_error',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await value(metrics, 'switchyard_upstream_attempts_total', { provider: 'primary', outcome: 'error' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await value(metrics, 'switchyard_upstream_requests_observed_total', {
        provider: 'primary',
        ok: 'false',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect((await metrics.scrape()).body).not.toContain('sk-canary-provider');
  });

  it('counts as observed upstream requests only the attempts that made one, not those an open breaker refused', async () => {
    const observedMetrics = createMetrics();
    const broken = createGateway({
      providers: [
        { name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-other-0000000000' },
      ],
      models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] }],
      plugins: [observedMetrics.plugin],
      breaker: { volumeThreshold: 1, resetTimeoutMs: 60_000 },
      retry: { maxRetries: 0 },
    });
    try {
      upstream.fault({ kind: 'status', status: 500, times: 1 });
      for (let i = 0; i < 3; i++) {
        await expect(
          broken.chat({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] }),
        ).rejects.toBeInstanceOf(SwitchyardError);
      }
      expect(upstream.requests).toHaveLength(1);
      expect(
        await value(observedMetrics, 'switchyard_breaker_rejections_total', { provider: 'primary' }),
      ).toBe(2);
      expect(
        await value(observedMetrics, 'switchyard_upstream_requests_observed_total', {
          provider: 'primary',
          ok: 'false',
        }),
      ).toBe(1);
    } finally {
      observedMetrics.close();
      await broken.close();
    }
  });

  it.each([
    ['cut', 'cut-stream', 'upstream_connection_error'],
    ['ended by an error event', 'stream-error', 'upstream_stream_error'],
  ] as const)(
    'counts a stream the provider %s part-way as an upstream error, though its attempt was counted ok',
    async (_how, kind, code) => {
      upstream.fault({ kind, afterChunks: 2, times: 1 });
      const stream = await gateway.stream({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] });
      await expect(
        (async () => {
          for await (const _chunk of stream);
        })(),
      ).rejects.toMatchObject({ code });
      expect(
        await value(metrics, 'switchyard_upstream_attempts_total', { provider: 'primary', outcome: 'ok' }),
      ).toBe(1);
      expect(await value(metrics, 'switchyard_upstream_errors_total', { provider: 'primary', code })).toBe(1);
    },
  );

  it('counts no upstream error for a stream its consumer closed', async () => {
    const stream = await gateway.stream({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] });
    for await (const _chunk of stream) break;
    expect((await metrics.scrape()).body).not.toContain('switchyard_upstream_errors_total{');
    expect(await value(metrics, 'switchyard_request_errors_total', { code: 'client_closed_request' })).toBe(
      1,
    );
  });

  it('counts no upstream error for a stream its client aborted mid-stream, though the abort names the provider', async () => {
    upstream.fault({ kind: 'stall-stream', afterChunks: 2, times: 1 });
    const client = new AbortController();
    const stream = await gateway.stream(
      { model: 'gpt', messages: [{ role: 'user', content: 'x' }] },
      { signal: client.signal },
    );
    await expect(
      (async () => {
        for await (const _chunk of stream) client.abort();
      })(),
    ).rejects.toMatchObject({ code: 'client_closed_request', provider: 'primary' });
    expect((await metrics.scrape()).body).not.toContain('switchyard_upstream_errors_total{');
    expect(
      await value(metrics, 'switchyard_upstream_attempts_total', { provider: 'primary', outcome: 'ok' }),
    ).toBe(1);
    expect(await value(metrics, 'switchyard_request_errors_total', { code: 'client_closed_request' })).toBe(
      1,
    );
  });

  it('counts an attempt its client aborted as abandoned, not as an upstream error', async () => {
    upstream.fault({ kind: 'hang', times: 1 });
    const client = new AbortController();
    const pending = gateway.chat(
      { model: 'gpt', messages: [{ role: 'user', content: 'x' }] },
      { signal: client.signal },
    );
    await vi.waitFor(() => expect(upstream.requests).toHaveLength(1), UNTIL_SETTLED);
    client.abort();
    await expect(pending).rejects.toMatchObject({ code: 'client_closed_request' });
    expect((await metrics.scrape()).body).not.toContain('switchyard_upstream_errors_total{');
    expect(
      await value(metrics, 'switchyard_upstream_attempts_total', {
        provider: 'primary',
        outcome: 'abandoned',
      }),
    ).toBe(1);
    expect(
      await value(metrics, 'switchyard_upstream_attempts_total', { provider: 'primary', outcome: 'error' }),
    ).toBe(0);
  });

  it('counts an attempt the request deadline ended as abandoned, not as an upstream error', async () => {
    const deadlineMetrics = createMetrics();
    const bounded = createGateway({
      providers: [
        { name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-other-0000000000' },
      ],
      models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] }],
      plugins: [deadlineMetrics.plugin],
      requestTimeoutMs: 50,
    });
    try {
      upstream.fault({ kind: 'hang', times: 1 });
      await expect(
        bounded.chat({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] }),
      ).rejects.toMatchObject({ code: 'request_timeout' });
      expect((await deadlineMetrics.scrape()).body).not.toContain('switchyard_upstream_errors_total{');
      expect(
        await value(deadlineMetrics, 'switchyard_upstream_attempts_total', {
          provider: 'primary',
          outcome: 'abandoned',
        }),
      ).toBe(1);
    } finally {
      deadlineMetrics.close();
      await bounded.close();
    }
  });

  it('counts an attempt its adapter refused before sending as not_sent, never as an error of the provider it did not call', async () => {
    const refusedMetrics = createMetrics();
    const refusing = createGateway({
      providers: [
        { name: 'claude', type: 'anthropic', baseUrl: upstream.url, apiKey: 'sk-ant-other-0000000000' },
        { name: 'mock', type: 'mock' },
      ],
      models: [
        {
          name: 'emb',
          strategy: 'ordered',
          targets: [
            { provider: 'claude', model: 'claude-x' },
            { provider: 'mock', model: 'echo' },
          ],
        },
        { name: 'c', targets: [{ provider: 'claude', model: 'claude-x' }] },
      ],
      plugins: [refusedMetrics.plugin],
    });
    try {
      // no embeddings on the Anthropic adapter: the mock behind it answers
      for (let i = 0; i < 3; i++) await refusing.embed({ model: 'emb', input: 'hello' });
      // an image URL the Anthropic translator cannot send: the request fails, no call made
      await expect(
        refusing.chat({
          model: 'c',
          messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }],
        }),
      ).rejects.toMatchObject({ code: 'invalid_request' });
      expect(upstream.requests).toHaveLength(0);
      const body = (await refusedMetrics.scrape()).body;
      expect(body).not.toContain('switchyard_upstream_errors_total{');
      const claude = (outcome: string): Promise<number> =>
        value(refusedMetrics, 'switchyard_upstream_attempts_total', { provider: 'claude', outcome });
      expect(await claude('error')).toBe(0);
      expect(await claude('not_sent')).toBe(4);
      expect(
        await value(refusedMetrics, 'switchyard_upstream_attempts_total', {
          provider: 'mock',
          outcome: 'ok',
        }),
      ).toBe(3);
      // an open breaker's or a limiter's refusal is counted as before (their own counters say why)
      expect(await value(refusedMetrics, 'switchyard_breaker_rejections_total', { provider: 'claude' })).toBe(
        0,
      );
    } finally {
      refusedMetrics.close();
      await refusing.close();
    }
  });

  it("counts only its own gateway's messages on the diagnostics channels, with another gateway in the process", async () => {
    const otherMetrics = createMetrics();
    const other = createGateway({
      providers: [
        { name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-other-0000000000' },
      ],
      models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] }],
      plugins: [otherMetrics.plugin],
      breaker: { volumeThreshold: 1 },
      retry: { maxRetries: 0 },
    });
    try {
      upstream.fault({ kind: 'status', status: 500, times: 1 });
      await expect(
        other.chat({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] }),
      ).rejects.toBeInstanceOf(SwitchyardError);
      const observed = { provider: 'primary', ok: 'false' };
      expect(await value(otherMetrics, 'switchyard_upstream_requests_observed_total', observed)).toBe(1);
      expect(await value(otherMetrics, 'switchyard_breaker_state', { target: 'primary/gpt-4o-mini' })).toBe(
        2,
      );
      // the first gateway made no call, and its breaker never opened
      expect(await value(metrics, 'switchyard_upstream_requests_observed_total', observed)).toBe(0);
      expect(await value(metrics, 'switchyard_breaker_state', { target: 'primary/gpt-4o-mini' })).toBe(0);
    } finally {
      otherMetrics.close();
      await other.close();
    }
  });

  it('counts breaker and limiter rejections from attempts and follows breaker state on the diagnostics channel', async () => {
    gateway.hooks.onAttempt.call(
      {
        index: 0,
        alias: 'gpt',
        provider: 'primary',
        providerType: 'openai',
        model: 'm',
        startedAt: 0,
        durationMs: 0,
        ok: false,
        error: new SwitchyardError('circuit_open', 'open'),
      },
      undefined as never,
    );
    gateway.hooks.onAttempt.call(
      {
        index: 0,
        alias: 'gpt',
        provider: 'primary',
        providerType: 'openai',
        model: 'm',
        startedAt: 0,
        durationMs: 0,
        ok: false,
        error: new SwitchyardError('limiter_rejected', 'full'),
      },
      undefined as never,
    );
    metrics.countLimiterRejection('client_key');
    expect(await value(metrics, 'switchyard_breaker_rejections_total', { provider: 'primary' })).toBe(1);
    expect(await value(metrics, 'switchyard_limiter_rejections_total', { scope: 'upstream' })).toBe(1);
    expect(await value(metrics, 'switchyard_limiter_rejections_total', { scope: 'client_key' })).toBe(1);
    metrics.countRefusal?.('/tools/search', 'authentication_error');
    metrics.countRefusal?.('/tools/search', 'authentication_error');
    expect(
      await value(metrics, 'switchyard_request_errors_total', {
        route: '/tools/search',
        code: 'authentication_error',
      }),
    ).toBe(2);
    metrics.countShadowRejection('tpm');
    expect(await value(metrics, 'switchyard_limit_shadow_rejections_total', { limit: 'tpm' })).toBe(1);
    channel('switchyard:breaker:state').publish({
      target: 'primary/gpt-4o-mini',
      state: 'open',
      previous: 'closed',
      configured: true,
    });
    expect(await value(metrics, 'switchyard_breaker_state', { target: 'primary/gpt-4o-mini' })).toBe(2);
  });

  it('labels a direct <provider>/<model> by the name a known-model source gives, else <provider>/other, never as sent', async () => {
    for (const model of ['mock/zz-17632', 'mock/yy-17632', 'mock/echo-2024'])
      await gateway.chat({ model, messages: [{ role: 'user', content: 'hi' }] });
    expect(
      await value(metrics, 'switchyard_requests_total', {
        provider: 'mock',
        model: 'mock/other',
        status: '200',
      }),
    ).toBe(3);
    // a source added later names the models it knows from then on
    metrics.knowModels?.((provider, model) =>
      provider === 'mock' && model.startsWith('echo') ? 'echo' : undefined,
    );
    for (const model of ['mock/echo-2024', 'mock/echo-2025', 'mock/zz-17632'])
      await gateway.chat({ model, messages: [{ role: 'user', content: 'hi' }] });
    expect(
      await value(metrics, 'switchyard_requests_total', {
        provider: 'mock',
        model: 'mock/echo',
        status: '200',
      }),
    ).toBe(2);
    expect(
      await value(metrics, 'switchyard_tokens_total', {
        direction: 'input',
        provider: 'mock',
        model: 'mock/echo',
      }),
    ).toBeGreaterThan(0);
    expect(
      await value(metrics, 'switchyard_requests_total', {
        provider: 'mock',
        model: 'mock/other',
        status: '200',
      }),
    ).toBe(4);
    // a configured alias keeps its name
    await gateway.chat({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
    expect(
      await value(metrics, 'switchyard_requests_total', { provider: 'mock', model: 'demo', status: '200' }),
    ).toBe(1);
    const { body } = await metrics.scrape();
    // in no label value (a sample's value may hold the digits: a duration sum of 0.0020245 s)
    const labelValues = [...body.matchAll(/="([^"]*)"/g)].map((match) => match[1]);
    expect(labelValues).toContain('mock/echo');
    for (const sent of ['17632', '2024', '2025'])
      expect(labelValues.filter((label) => label?.includes(sent))).toEqual([]);
  });

  it('reports the breakers of targets no route configures under <provider>/other, with the worst state among them', async () => {
    const breakers = channel('switchyard:breaker:state');
    const state = () => value(metrics, 'switchyard_breaker_state', { target: 'primary/other' });
    breakers.publish({ target: 'primary/zz-1', state: 'open', previous: 'closed', configured: false });
    breakers.publish({ target: 'primary/zz-2', state: 'open', previous: 'closed', configured: false });
    expect(await state()).toBe(2);
    breakers.publish({ target: 'primary/zz-1', state: 'half-open', previous: 'open', configured: false });
    expect(await state()).toBe(2);
    breakers.publish({ target: 'primary/zz-2', state: 'closed', previous: 'open', configured: false });
    expect(await state()).toBe(1);
    breakers.publish({ target: 'primary/zz-1', state: 'closed', previous: 'half-open', configured: false });
    expect(await state()).toBe(0);
    // a message without `configured` (another publisher) is taken as a target clients may name
    breakers.publish({ target: 'primary/zz-3', state: 'open' });
    expect(await state()).toBe(2);
    expect((await metrics.scrape()).body).not.toContain('zz-');
  });

  it("never lets a client-named breaker the known models label as a configured target write that target's series", async () => {
    const breakers = channel('switchyard:breaker:state');
    // a catalog names a dated model by its base id: the configured target's own name
    metrics.knowModels?.((provider, model) =>
      provider === 'primary' && model.startsWith('gpt-4o-mini') ? 'gpt-4o-mini' : undefined,
    );
    const configured = () => value(metrics, 'switchyard_breaker_state', { target: 'primary/gpt-4o-mini' });
    const other = () => value(metrics, 'switchyard_breaker_state', { target: 'primary/other' });
    breakers.publish({
      target: 'primary/gpt-4o-mini-2024-07-18',
      state: 'open',
      previous: 'closed',
      configured: false,
    });
    breakers.publish({ target: 'primary/gpt-4o-mini', state: 'open', previous: 'closed', configured: true });
    expect(await configured()).toBe(2);
    expect(await other()).toBe(2);
    // the client-named breaker closing says nothing of the configured target's open circuit
    breakers.publish({
      target: 'primary/gpt-4o-mini-2024-07-18',
      state: 'closed',
      previous: 'open',
      configured: false,
    });
    expect(await configured()).toBe(2);
    expect(await other()).toBe(0);
    breakers.publish({
      target: 'primary/gpt-4o-mini',
      state: 'half-open',
      previous: 'open',
      configured: true,
    });
    breakers.publish({
      target: 'primary/gpt-4o-mini',
      state: 'closed',
      previous: 'half-open',
      configured: true,
    });
    // nor does it opening raise a false open on the configured target
    breakers.publish({
      target: 'primary/gpt-4o-mini-2024-07-18',
      state: 'open',
      previous: 'closed',
      configured: false,
    });
    expect(await configured()).toBe(0);
    expect(await other()).toBe(2);
  });

  it('keeps the configured targets it was told of out of the labels of client-named breakers before their own breakers ever change', async () => {
    const breakers = channel('switchyard:breaker:state');
    metrics.knowModels?.((provider, model) =>
      provider === 'primary' && model.startsWith('gpt-4o-mini') ? 'gpt-4o-mini' : undefined,
    );
    metrics.knowConfiguredTargets?.(['primary/gpt-4o-mini', 'mock/echo']);
    breakers.publish({
      target: 'primary/gpt-4o-mini-2024-07-18',
      state: 'open',
      previous: 'closed',
      configured: false,
    });
    expect(await value(metrics, 'switchyard_breaker_state', { target: 'primary/other' })).toBe(2);
    // the configured target's breaker is closed: its series shows nothing else
    expect((await metrics.scrape()).body).not.toContain(
      'switchyard_breaker_state{target="primary/gpt-4o-mini"} 2',
    );
  });

  it('counts no output token for usage that reports none (no completion_tokens), rather than one', async () => {
    upstream.fault({
      kind: 'status',
      status: 200,
      times: 1,
      body: {
        id: 'c1',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1000, total_tokens: 1000 },
      },
    });
    await gateway.chat({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] });
    const series = { provider: 'primary', model: 'gpt' };
    expect(await value(metrics, 'switchyard_tokens_total', { direction: 'input', ...series })).toBe(1000);
    expect(await value(metrics, 'switchyard_tokens_total', { direction: 'output', ...series })).toBe(0);
  });

  it('counts the tokens and cost of usage whose cached or reasoning count is not a number (an OpenAI-compatible host\'s "200"), skipping only those counts', async () => {
    const context = createRequestContext({ endpoint: 'chat' });
    context.provider = 'primary';
    context.statusCode = 200;
    context.usage = {
      prompt_tokens: 1000,
      completion_tokens: 500,
      total_tokens: 1500,
      // as the host sent them: the wire types say number, the wire does not
      prompt_tokens_details: { cached_tokens: '200' as unknown as number },
      completion_tokens_details: { reasoning_tokens: '50' as unknown as number },
    };
    context.costUsd = 0.002;
    gateway.report(context);
    const series = { provider: 'primary', model: 'unrouted' };
    expect(await value(metrics, 'switchyard_tokens_total', { direction: 'input', ...series })).toBe(1000);
    expect(await value(metrics, 'switchyard_tokens_total', { direction: 'output', ...series })).toBe(500);
    expect(await value(metrics, 'switchyard_tokens_total', { direction: 'cached', ...series })).toBe(0);
    expect(await value(metrics, 'switchyard_tokens_total', { direction: 'reasoning', ...series })).toBe(0);
    expect(await value(metrics, 'switchyard_cost_usd_total', series)).toBe(0.002);
  });

  it('counts an exchange billed by units with no price (no token usage) as unpriced', async () => {
    const context = createRequestContext({ endpoint: 'proxy' });
    context.provider = 'elevenlabs';
    context.meteredUnits = { characters: 11 };
    context.costUsd = null;
    context.statusCode = 200;
    gateway.report(context);
    expect(
      await value(metrics, 'switchyard_unpriced_requests_total', {
        provider: 'elevenlabs',
        model: 'unrouted',
      }),
    ).toBe(1);
    // a priced one is not
    const priced = createRequestContext({ endpoint: 'proxy' });
    priced.provider = 'elevenlabs';
    priced.meteredUnits = { characters: 11 };
    priced.costUsd = 0.0033;
    priced.statusCode = 200;
    gateway.report(priced);
    expect(await value(metrics, 'switchyard_unpriced_requests_total', { provider: 'elevenlabs' })).toBe(1);
  });

  it('counts a proxy exchange of unknown cost with no usage read from it as unmetered, by provider', async () => {
    const unread = createRequestContext({ endpoint: 'proxy' });
    unread.provider = 'openai';
    unread.costUsd = null;
    unread.statusCode = 200;
    gateway.report(unread);
    expect(await value(metrics, 'switchyard_unmetered_requests_total', { provider: 'openai' })).toBe(1);
    expect(await value(metrics, 'switchyard_unpriced_requests_total', { provider: 'openai' })).toBe(0);
    // one with usage but no price is unpriced, one priced or refused ($0) neither: never both
    const unpricedOne = createRequestContext({ endpoint: 'proxy' });
    unpricedOne.provider = 'openai';
    unpricedOne.meteredUnits = { characters: 11 };
    unpricedOne.costUsd = null;
    const refused = createRequestContext({ endpoint: 'proxy' });
    refused.provider = 'openai';
    refused.costUsd = 0;
    refused.statusCode = 429;
    gateway.report(unpricedOne);
    gateway.report(refused);
    expect(await value(metrics, 'switchyard_unmetered_requests_total', { provider: 'openai' })).toBe(1);
    expect(await value(metrics, 'switchyard_unpriced_requests_total', { provider: 'openai' })).toBe(1);
  });

  it("counts an upstream's error the universal proxy passes through by its status, not as a request error (it has no code)", async () => {
    const passed = createRequestContext({ endpoint: 'proxy' });
    passed.provider = 'openai';
    passed.statusCode = 503;
    gateway.report(passed);
    // the gateway's own failure of an exchange has its code
    const failed = createRequestContext({ endpoint: 'proxy' });
    failed.provider = 'openai';
    failed.error = new SwitchyardError('upstream_connection_error', 'reset');
    failed.statusCode = failed.error.status;
    gateway.report(failed);
    const proxy = { route: 'proxy', provider: 'openai' };
    expect(await value(metrics, 'switchyard_requests_total', { ...proxy, status: '503' })).toBe(1);
    expect(await value(metrics, 'switchyard_requests_total', { ...proxy, status: '502' })).toBe(1);
    const errors = await metrics.registry.getSingleMetric('switchyard_request_errors_total')?.get();
    expect(errors?.values.map((sample) => sample.labels)).toEqual([
      { route: 'proxy', code: 'upstream_connection_error' },
    ]);
  });

  it('counts limit leases given back at their maximum lifetime and failed lease renewals', async () => {
    metrics.countLeaseLifetimeExceeded();
    metrics.countLeaseRenewalFailure();
    metrics.countLeaseRenewalFailure();
    expect(await value(metrics, 'switchyard_limit_lease_lifetime_exceeded_total')).toBe(1);
    expect(await value(metrics, 'switchyard_limit_lease_renewal_failures_total')).toBe(2);
  });

  it('reports request log queue counters (dropped and rejected rows, store errors)', async () => {
    metrics.observeRequestLog({ queued: 3, written: 10, dropped: 2, rejected: 5, storeErrors: 4 });
    expect(await value(metrics, 'switchyard_log_rows_dropped_total')).toBe(2);
    expect(await value(metrics, 'switchyard_log_rows_rejected_total')).toBe(5);
    expect(await value(metrics, 'switchyard_log_store_errors_total')).toBe(4);
    expect(await value(metrics, 'switchyard_log_queue_rows')).toBe(3);
  });

  it("reports the response cache's Redis breaker state, the worst of its sources, only once there is one", async () => {
    expect((await metrics.scrape()).body).not.toContain('switchyard_cache_redis_state');
    let state: string | undefined = 'closed';
    metrics.observeCacheRedis(() => state);
    expect(await value(metrics, 'switchyard_cache_redis_state')).toBe(0);
    state = 'half-open';
    expect(await value(metrics, 'switchyard_cache_redis_state')).toBe(1);
    metrics.observeCacheRedis(() => 'open');
    state = 'closed';
    expect(await value(metrics, 'switchyard_cache_redis_state')).toBe(2);
  });

  it('reports pending lease releases, owed spend and the key-invalidation subscription, only once they have a source', async () => {
    const body = (await metrics.scrape()).body;
    for (const name of [
      'switchyard_limit_pending_releases',
      'switchyard_limit_owed_spend_usd',
      'switchyard_key_invalidation_subscribed',
    ])
      expect(body).not.toContain(name);
    let pending = 3;
    let owedMicros = 250_000;
    let subscribed = true;
    metrics.observePendingReleases?.(() => pending);
    metrics.observeOwedSpend?.(() => owedMicros);
    metrics.observeKeyInvalidation?.(() => subscribed);
    expect(await value(metrics, 'switchyard_limit_pending_releases')).toBe(3);
    expect(await value(metrics, 'switchyard_limit_owed_spend_usd')).toBe(0.25);
    expect(await value(metrics, 'switchyard_key_invalidation_subscribed')).toBe(1);
    pending = 0;
    owedMicros = 0;
    subscribed = false;
    expect(await value(metrics, 'switchyard_limit_pending_releases')).toBe(0);
    expect(await value(metrics, 'switchyard_limit_owed_spend_usd')).toBe(0);
    expect(await value(metrics, 'switchyard_key_invalidation_subscribed')).toBe(0);
  });
});

describe('createMetrics in a cluster', () => {
  /**
   * The registry of one worker whose breaker of `primary/gpt` is in `state`, with `queued` log
   * rows, its cache's Redis tier in `cache`, `pending` lease releases and its key invalidation
   * `subscribed` or not.
   */
  async function worker(
    state: string,
    queued: number,
    cache: string,
    pending = 0,
    subscribed = true,
  ): Promise<object[]> {
    const metrics = createMetrics();
    try {
      metrics.observePendingReleases?.(() => pending);
      metrics.observeKeyInvalidation?.(() => subscribed);
      channel('switchyard:breaker:state').publish({
        target: 'primary/gpt',
        state,
        previous: 'closed',
        configured: true,
      });
      metrics.observeRequestLog({ queued, written: 0, dropped: 0, rejected: 0, storeErrors: 0 });
      metrics.observeCacheRedis(() => cache);
      return await metrics.registry.getMetricsAsJSON();
    } finally {
      metrics.close();
    }
  }

  it("aggregates the workers' gauges as the primary does: the worst breaker and cache Redis state, the sum of queued log rows and pending releases, the lowest key-invalidation state", async () => {
    const merged = AggregatorRegistry.aggregate([
      await worker('open', 1, 'closed', 2),
      await worker('open', 2, 'half-open', 0, false),
      await worker('half-open', 4, 'closed', 5),
    ]);
    const gauge = async (name: string, labels: Record<string, string> = {}): Promise<number | undefined> =>
      (await merged.getSingleMetric(name)?.get())?.values.find((v) =>
        Object.entries(labels).every(([k, l]) => v.labels[k] === l),
      )?.value;
    // 2, 2 and 1 summed would be 5: no state at all
    expect(await gauge('switchyard_breaker_state', { target: 'primary/gpt' })).toBe(2);
    expect(await gauge('switchyard_cache_redis_state')).toBe(1);
    expect(await gauge('switchyard_log_queue_rows')).toBe(7);
    // releases waiting in every worker; invalidations missed by one of them
    expect(await gauge('switchyard_limit_pending_releases')).toBe(7);
    expect(await gauge('switchyard_key_invalidation_subscribed')).toBe(0);
  });
});
