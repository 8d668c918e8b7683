import {
  header,
  jsonValueEnd,
  num,
  parseJson,
  record,
  responseJson,
  str,
  succeeded,
  type MeterExchange,
} from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';
import type { TokenUsage } from '../../token-usage';
import { anthropicUsageTokens } from '../anthropic/anthropic-meter';

interface BedrockCounts {
  /** Uncached input tokens: Bedrock counts cache reads and writes apart. */
  input: number | undefined;
  output: number | undefined;
  cacheRead: number | undefined;
  cacheWrite: number | undefined;
  /** Of the cache writes, those kept for an hour; undefined when Bedrock did not break them down. */
  cacheWrite1h?: number | undefined;
}

/** Bedrock's counts as {@link TokenUsage}, whose input includes cache reads and writes. */
function bedrockTokens(counts: BedrockCounts): TokenUsage | undefined {
  if (counts.input === undefined) return undefined;
  const cacheRead = counts.cacheRead ?? 0;
  const cacheWrite = counts.cacheWrite ?? 0;
  const tokens: TokenUsage = {
    inputTokens: counts.input + cacheRead + cacheWrite,
    outputTokens: counts.output ?? 0,
  };
  if (cacheRead) tokens.cachedInputTokens = cacheRead;
  if (cacheWrite) tokens.cacheWriteTokens = cacheWrite;
  if (cacheWrite && counts.cacheWrite1h !== undefined) tokens.cacheWrite1hTokens = counts.cacheWrite1h;
  return tokens;
}

/**
 * The cache writes kept for an hour, from `cacheDetails` (the writes by TTL, `5m` or `1h`);
 * undefined without the breakdown.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_CacheDetail.html
 */
function oneHourWrites(details: unknown): number | undefined {
  if (!Array.isArray(details) || details.length === 0) return undefined;
  let total = 0;
  for (const detail of details) {
    const entry = record(detail);
    if (entry['ttl'] === '1h') total += num(entry['inputTokens']) ?? 0;
  }
  return total;
}

/** A Converse `TokenUsage` (the whole answer's, or ConverseStream's `metadata` event's). */
function converseTokens(value: unknown): TokenUsage | undefined {
  const usage = record(value);
  return bedrockTokens({
    input: num(usage['inputTokens']),
    output: num(usage['outputTokens']),
    cacheRead: num(usage['cacheReadInputTokens']),
    cacheWrite: num(usage['cacheWriteInputTokens']),
    cacheWrite1h: oneHourWrites(usage['cacheDetails']),
  });
}

/** The `amazon-bedrock-invocationMetrics` of InvokeModelWithResponseStream's last chunk. */
function metricsTokens(value: unknown): TokenUsage | undefined {
  const metrics = record(value);
  return bedrockTokens({
    input: num(metrics['inputTokenCount']),
    output: num(metrics['outputTokenCount']),
    cacheRead: num(metrics['cacheReadInputTokenCount']),
    cacheWrite: num(metrics['cacheWriteInputTokenCount']),
  });
}

/** InvokeModel's token-count headers. */
function headerTokens(exchange: MeterExchange): TokenUsage | undefined {
  const count = (name: string) => num(header(exchange.responseHeaders, `x-amzn-bedrock-${name}-token-count`));
  return bedrockTokens({
    input: count('input'),
    output: count('output'),
    cacheRead: count('cache-read-input'),
    cacheWrite: count('cache-write-input'),
  });
}

/** The JSON object whose `{` is at `start` in `text`, parsed; undefined when it does not close or parse. */
function objectAt(text: string, start: number): unknown {
  const end = jsonValueEnd(text, start);
  return end < 0 ? undefined : parseJson(text.slice(start, end));
}

/**
 * The object values of `key` in the JSON payloads of a binary event stream captured as text,
 * last first. Each is read to its closing brace, so nested objects (`cacheDetails`) are kept;
 * the frames' binary preludes and checksums around the payloads are never part of one.
 */
function objectsOf(text: string, key: string): unknown[] {
  const starts = [...text.matchAll(new RegExp(`"${key}"\\s*:\\s*\\{`, 'g'))].map(
    (match) => match.index + match[0].length - 1,
  );
  return starts.reverse().map((start) => objectAt(text, start));
}

/** The first of `values` that gives token usage. */
function firstTokens(
  values: unknown[],
  read: (value: unknown) => TokenUsage | undefined,
): TokenUsage | undefined {
  for (const value of values) {
    const tokens = read(value);
    if (tokens !== undefined) return tokens;
  }
  return undefined;
}

const METRICS_KEY = 'amazon-bedrock-invocationMetrics';

/**
 * The tier an answer was served on, as its rates go: Bedrock's service tier (`priority`, `flex`,
 * `reserved`; `default` is the standard one), and latency-optimized inference
 * (`performanceConfig.latency: "optimized"`), billed at rates of its own: `latency_optimized`, on
 * a tier other than the standard one `<tier>_latency_optimized`. Undefined when the answer names
 * neither.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ServiceTier.html
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/latency-optimized-inference.html
 */
function bedrockTier(tier: string | undefined, latency: string | undefined): string | undefined {
  if (latency !== 'optimized') return tier;
  return tier === undefined || tier === 'default' ? 'latency_optimized' : `${tier}_latency_optimized`;
}

/** The tier of a Converse answer or of ConverseStream's metadata event (see {@link bedrockTier}). */
function converseTier(value: unknown): string | undefined {
  const event = record(value);
  return bedrockTier(
    str(record(event['serviceTier'])['type']),
    str(record(event['performanceConfig'])['latency']),
  );
}

/** The tier InvokeModel's answer headers name (see {@link bedrockTier}). */
function headerTier(exchange: MeterExchange): string | undefined {
  return bedrockTier(
    header(exchange.responseHeaders, 'x-amzn-bedrock-service-tier'),
    header(exchange.responseHeaders, 'x-amzn-bedrock-performanceconfig-latency'),
  );
}

/**
 * ConverseStream's tier: that of the metadata event, the one whose `serviceTier` and
 * `performanceConfig` travel beside the usage (the last of each, as the usage is read).
 */
function converseStreamTier(text: string): string | undefined {
  const [tier] = objectsOf(text, 'serviceTier');
  const [performance] = objectsOf(text, 'performanceConfig');
  return converseTier({ serviceTier: tier, performanceConfig: performance });
}

/**
 * InvokeModelWithResponseStream's counts. Each chunk's JSON (the model's own event) travels
 * base64-encoded in its frame (`{"bytes":"..."}`). Claude's events (`message_start`,
 * `message_delta`) give its usage with cache reads and writes apart, as the Messages API does;
 * the last chunk's invocation metrics are the counts of any other model.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModelWithResponseStream.html
 */
function invokeStreamTokens(text: string): TokenUsage | undefined {
  const chunks = [...text.matchAll(/"bytes"\s*:\s*"([A-Za-z0-9+/]+={0,2})"/g)].map((match) =>
    record(parseJson(Buffer.from(match[1] ?? '', 'base64').toString('utf8'))),
  );
  const usages = chunks.flatMap((chunk) => [record(chunk['message'])['usage'], chunk['usage']]);
  // Claude's counts when its message_start was seen (a message_delta alone counts no input)
  if (usages.some((usage) => num(record(usage)['input_tokens']) !== undefined))
    return anthropicUsageTokens(usages);
  const metrics =
    firstTokens(chunks.map((chunk) => chunk[METRICS_KEY]).reverse(), metricsTokens) ??
    // a stream whose chunks were not base64-encoded
    firstTokens(objectsOf(text, METRICS_KEY), metricsTokens);
  return metrics ?? anthropicUsageTokens(usages);
}

/**
 * InvokeModel's counts: Claude's answer is a Messages API body, whose usage has its cache reads
 * and writes apart; any other model's body is its own, and the token-count headers give them.
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages-request-response.html
 */
function invokeTokens(exchange: MeterExchange): TokenUsage | undefined {
  const usage = record(responseJson(exchange))['usage'];
  const claude = num(record(usage)['input_tokens']) === undefined ? undefined : anthropicUsageTokens([usage]);
  return claude ?? headerTokens(exchange);
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const match = /\/model\/([^/]+)\/(converse-stream|converse|invoke-with-response-stream|invoke)$/.exec(
    exchange.url.pathname,
  );
  if (match === null) return undefined;
  const model = decodeURIComponent(match[1] ?? '');
  const operation = match[2] ?? 'invoke';
  const text = exchange.responseText ?? '';
  let tokens: TokenUsage | undefined;
  let tier: string | undefined;
  if (operation === 'converse') {
    const body = responseJson(exchange);
    tokens = converseTokens(record(body)['usage']);
    tier = converseTier(body);
  } else if (operation === 'converse-stream') {
    // the binary event stream frames carry JSON payloads: the metadata event holds usage (a
    // guardrail trace in it may hold usage objects of its own, without token counts)
    tokens = firstTokens(objectsOf(text, 'usage'), converseTokens);
    tier = converseStreamTier(text);
  } else {
    tokens = operation === 'invoke' ? invokeTokens(exchange) : invokeStreamTokens(text);
    tier = headerTier(exchange);
  }
  if (tokens === undefined) return undefined;
  // a tier with rates of its own: priced where configured, else unknown, never at the standard rates
  if (tier !== undefined) tokens.serviceTier = tier;
  return { provider: 'bedrock', model, operation, tokens, units: {} };
}

/**
 * AWS Bedrock runtime: Converse `usage` and ConverseStream's metadata event (cache reads and
 * writes apart, 1-hour writes from `cacheDetails`); InvokeModel and
 * InvokeModelWithResponseStream with Claude by its Messages usage (cache reads and writes
 * apart), any other model by the token-count headers or the last chunk's invocation metrics.
 * The service tier and latency-optimized inference the answer names (`serviceTier`,
 * `performanceConfig`; InvokeModel's `X-Amzn-Bedrock-Service-Tier` and
 * `X-Amzn-Bedrock-PerformanceConfig-Latency` headers) are the usage's service tier.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 */
export const bedrockMeter: ProviderMeter = {
  name: 'bedrock',
  label: 'AWS Bedrock',
  hosts: ['bedrock-runtime.*.amazonaws.com'],
  units:
    'tokens (input, cache read, cache write, output; service tier and latency-optimized inference apart), whole or streamed, Converse and InvokeModel',
  meter,
};
