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
  const tokens: TokenUsage = {
    inputTokens: input + cacheRead + cacheWrite,
    outputTokens: num(usage['outputTokens']) ?? 0,
  };
  if (cacheRead) tokens.cachedInputTokens = cacheRead;
  if (cacheWrite) tokens.cacheWriteTokens = cacheWrite;
  return tokens;
}

const INVOCATION_METRICS = /"amazon-bedrock-invocationMetrics"\s*:\s*(\{[^{}]*\})/;

/** The token counts of an `amazon-bedrock-invocationMetrics` object in `text`, if any. */
function metricsIn(text: string): TokenUsage | undefined {
  const found = INVOCATION_METRICS.exec(text);
  if (found?.[1] === undefined) return undefined;
  try {
    const parsed = record(JSON.parse(found[1]));
    const input = num(parsed['inputTokenCount']);
    return input === undefined
      ? undefined
      : { inputTokens: input, outputTokens: num(parsed['outputTokenCount']) ?? 0 };
  } catch {
    return undefined;
  }
}

/**
 * InvokeModelWithResponseStream's counts: its last chunk carries the invocation metrics, but
 * each chunk's JSON travels base64-encoded in its frame (`{"bytes":"..."}`), so they are
 * looked for in the decoded chunks, last first.
 */
function invocationMetrics(text: string): TokenUsage | undefined {
  const plain = metricsIn(text);
  if (plain !== undefined) return plain;
  const chunks = [...text.matchAll(/"bytes"\s*:\s*"([A-Za-z0-9+/]+={0,2})"/g)];
  for (let index = chunks.length - 1; index >= 0; index--) {
    const tokens = metricsIn(Buffer.from(chunks[index]?.[1] ?? '', 'base64').toString('utf8'));
    if (tokens !== undefined) return tokens;
  }
  return undefined;
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const match = /\/model\/([^/]+)\/(converse-stream|converse|invoke-with-response-stream|invoke)$/.exec(
    exchange.url.pathname,
  );
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
    tokens ??= invocationMetrics(exchange.responseText ?? '');
  } else {
    const input = num(header(exchange.responseHeaders, 'x-amzn-bedrock-input-token-count'));
    if (input !== undefined)
      tokens = {
        inputTokens: input,
        outputTokens: num(header(exchange.responseHeaders, 'x-amzn-bedrock-output-token-count')) ?? 0,
      };
  }
  if (tokens === undefined) return undefined;
  return { provider: 'bedrock', model, operation, tokens, units: {} };
}

/**
 * AWS Bedrock runtime: Converse `usage` (cache reads and writes apart), the stream's
 * metadata event, the invocation metrics of InvokeModelWithResponseStream's last chunk, or
 * InvokeModel's token-count headers.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 */
export const bedrockMeter: ProviderMeter = {
  name: 'bedrock',
  label: 'AWS Bedrock',
  hosts: ['bedrock-runtime.*.amazonaws.com'],
  units: 'tokens (input, cache read, cache write, output)',
  meter,
};
