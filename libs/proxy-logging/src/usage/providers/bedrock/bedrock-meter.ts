import { header, num, record, responseJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';
import type { TokenUsage } from '../../token-usage';

function converseTokens(value: unknown): TokenUsage | undefined {
  const usage = record(value);
  const input = num(usage['inputTokens']);
  if (input === undefined) return undefined;
  const cacheRead = num(usage['cacheReadInputTokens']) ?? 0;
  const cacheWrite = num(usage['cacheWriteInputTokens']) ?? 0;
  const tokens: TokenUsage = { inputTokens: input + cacheRead + cacheWrite, outputTokens: num(usage['outputTokens']) ?? 0 };
  if (cacheRead) tokens.cachedInputTokens = cacheRead;
  if (cacheWrite) tokens.cacheWriteTokens = cacheWrite;
  return tokens;
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const match = /\/model\/([^/]+)\/(converse-stream|converse|invoke-with-response-stream|invoke)$/.exec(exchange.url.pathname);
  if (match === null) return undefined;
  const model = decodeURIComponent(match[1] ?? '');
  const operation = match[2] ?? 'invoke';
  let tokens: TokenUsage | undefined;
  if (operation === 'converse') {
    tokens = converseTokens(record(responseJson(exchange))['usage']);
  } else if (operation === 'converse-stream' || operation === 'invoke-with-response-stream') {
    // the binary event stream frames carry JSON payloads: the metadata event holds usage
    const found = /"usage"\s*:\s*(\{[^{}]*\})/.exec(exchange.responseText ?? '');
    if (found?.[1] !== undefined) {
      try {
        tokens = converseTokens(JSON.parse(found[1]));
      } catch {
        tokens = undefined;
      }
    }
    const metrics = /"amazon-bedrock-invocationMetrics"\s*:\s*(\{[^{}]*\})/.exec(exchange.responseText ?? '');
    if (tokens === undefined && metrics?.[1] !== undefined) {
      const parsed = record(JSON.parse(metrics[1]));
      const input = num(parsed['inputTokenCount']);
      if (input !== undefined) tokens = { inputTokens: input, outputTokens: num(parsed['outputTokenCount']) ?? 0 };
    }
  } else {
    const input = num(header(exchange.responseHeaders, 'x-amzn-bedrock-input-token-count'));
    if (input !== undefined) tokens = { inputTokens: input, outputTokens: num(header(exchange.responseHeaders, 'x-amzn-bedrock-output-token-count')) ?? 0 };
  }
  if (tokens === undefined) return undefined;
  return { provider: 'bedrock', model, operation, tokens, units: {} };
}

/**
 * AWS Bedrock runtime: Converse `usage` (cache reads and writes apart), the stream's
 * metadata event, or InvokeModel's token-count headers.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 */
export const bedrockMeter: ProviderMeter = {
  name: 'bedrock',
  label: 'AWS Bedrock',
  hosts: ['bedrock-runtime.*.amazonaws.com'],
  units: 'tokens (input, cache read, cache write, output)',
  meter,
};
