import type { Result as AutocannonResult } from 'autocannon';
import { envValue } from '../config/env-value';
import { integerFlag, parseCommandArgs, positionalArgs } from './cli-args';
import { OperationError, UsageError } from './cli-errors';
import { formatCount, printJson, printLine, renderTable } from './cli-output';
import { adminKeyFrom, CONNECTION_HELP, CONNECTION_OPTIONS, gatewayUrlFrom } from './gateway-connection';
import { parseDurationMs } from './parse-duration';

/** Usage of `switchyard bench`. */
export const BENCH_USAGE = `Usage:
  switchyard bench [--model mock] [-c 10] [-d 10s] [--stream] [--prompt TEXT] [--cache]
                   [--api-key KEY]

Sends chat completions to a running gateway's /v1/chat/completions for the duration
(-d, seconds or a duration such as 30s or 2m) over -c connections, with a progress bar on a
terminal, then prints requests/s, latency percentiles, errors and non-2xx answers.
Every request skips the response cache (x-switchyard-cache: skip), so the run measures the
way to the provider; --cache lets the repeated prompt be answered from the cache.
Exits 1 when any request failed. The key comes from --api-key, SWITCHYARD_API_KEY, or the
admin key (SWITCHYARD_ADMIN_KEY / SWITCHYARD_MASTER_KEY); none for an open gateway.

${CONNECTION_HELP}`;

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  model: { type: 'string' },
  connections: { type: 'string', short: 'c' },
  duration: { type: 'string', short: 'd' },
  stream: { type: 'boolean' },
  prompt: { type: 'string' },
  'api-key': { type: 'string' },
  cache: { type: 'boolean' },
} as const;

/** The summary `bench` prints (and `--json` returns). */
export interface BenchSummary {
  url: string;
  model: string;
  stream: boolean;
  connections: number;
  duration_s: number;
  requests: number;
  requests_per_s: number;
  latency_ms: { p50: number; p90: number; p99: number; mean: number; max: number };
  errors: number;
  timeouts: number;
  non_2xx: number;
  status_codes: Record<string, number>;
  throughput_bytes_per_s: number;
}

function durationSeconds(value: string | undefined): number {
  if (value === undefined) return 10;
  // a bare number is seconds, as in autocannon
  const ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : parseDurationMs(value, '--duration');
  if (!(ms >= 1000) || ms > 24 * 3_600_000)
    throw new UsageError(`--duration: "${value}" must be from 1s to 24h.`);
  return ms / 1000;
}

/** One request before the load: a wrong key or model fails here with the gateway's message. */
async function preflight(url: string, headers: Record<string, string>, body: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error
        ? ((error.cause as NodeJS.ErrnoException).code ?? error.cause.message)
        : String(error);
    throw new OperationError(`Cannot reach the gateway at ${url}: ${cause}`);
  }
  const text = await response.text();
  if (response.ok) return;
  let message = `HTTP ${response.status}`;
  let code: string | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown; code?: unknown } };
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
    if (typeof parsed.error?.code === 'string') code = parsed.error.code;
  } catch {
    // not an OpenAI-shaped error body: the status says enough
  }
  throw new OperationError(
    `The gateway refused the benchmark request (${response.status}${code === undefined ? '' : ` ${code}`}): ${message}`,
    {
      status: response.status,
      ...(code === undefined ? {} : { code }),
    },
  );
}

function printSummary(summary: BenchSummary): void {
  const ms = (value: number): string => `${value.toFixed(1)} ms`;
  const rows: Array<[string, string]> = [
    ['Target', `${summary.url} (model ${summary.model}${summary.stream ? ', streaming' : ''})`],
    ['Connections', String(summary.connections)],
    ['Duration', `${summary.duration_s.toFixed(1)} s`],
    ['Requests', formatCount(summary.requests)],
    ['Requests/s', summary.requests_per_s.toFixed(1)],
    ['Latency p50', ms(summary.latency_ms.p50)],
    ['Latency p90', ms(summary.latency_ms.p90)],
    ['Latency p99', ms(summary.latency_ms.p99)],
    ['Latency max', ms(summary.latency_ms.max)],
    [
      'Errors',
      `${formatCount(summary.errors)}${summary.timeouts > 0 ? ` (${formatCount(summary.timeouts)} timeouts)` : ''}`,
    ],
    ['Non-2xx', formatCount(summary.non_2xx)],
    [
      'Status codes',
      Object.entries(summary.status_codes)
        .map(([code, count]) => `${code}: ${formatCount(count)}`)
        .join(', ') || '-',
    ],
  ];
  printLine(renderTable([{ header: 'METRIC' }, { header: 'VALUE', align: 'right' }], rows));
}

/** `switchyard bench`: load against a running gateway with autocannon. */
export async function benchCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, BENCH_USAGE);
  if (values.help === true) {
    printLine(BENCH_USAGE);
    return 0;
  }
  positionalArgs(positionals, [], BENCH_USAGE);
  const connections = integerFlag(values.connections, '--connections', 1, 10_000) ?? 10;
  const seconds = durationSeconds(values.duration);
  const model = values.model ?? 'mock';
  const stream = values.stream === true;
  const base = await gatewayUrlFrom(values, env);
  const url = `${base}/v1/chat/completions`;
  const key = values['api-key'] ?? envValue(env, 'SWITCHYARD_API_KEY') ?? adminKeyFrom(values, env);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== undefined) headers['authorization'] = `Bearer ${key}`;
  // one prompt repeated would otherwise be served from the response cache after the first call
  if (values.cache !== true) headers['x-switchyard-cache'] = 'skip';
  const body = JSON.stringify({
    model,
    stream,
    messages: [{ role: 'user', content: values.prompt ?? 'Say hello in ten words.' }],
  });
  await preflight(url, headers, body);

  // loaded only here: the other commands do not pay for the load generator
  const { default: autocannon } = await import('autocannon');
  const json = values.json === true;
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      { url, method: 'POST', headers, body, connections, duration: seconds },
      (error: unknown, done) => {
        process.removeListener('SIGINT', stopEarly);
        if (error instanceof Error) reject(error);
        else if (error !== null && error !== undefined)
          reject(new Error(`autocannon failed: ${JSON.stringify(error)}`));
        else resolve(done);
      },
    );
    // Ctrl-C ends the run early; the summary still covers what was sent
    const stopEarly = (): void => instance.stop();
    process.once('SIGINT', stopEarly);
    autocannon.track(instance, {
      outputStream: process.stderr,
      renderProgressBar: !json && process.stderr.isTTY,
      renderResultsTable: false,
      renderLatencyTable: false,
    });
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {}))
    statusCodes[code] = stats.count ?? 0;
  const summary: BenchSummary = {
    url,
    model,
    stream,
    connections,
    duration_s: result.duration,
    requests: result.requests.total,
    requests_per_s: result.requests.average,
    latency_ms: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      mean: result.latency.mean,
      max: result.latency.max,
    },
    errors: result.errors,
    timeouts: result.timeouts,
    non_2xx: result.non2xx,
    status_codes: statusCodes,
    throughput_bytes_per_s: result.throughput.average,
  };
  if (json) printJson(summary);
  else printSummary(summary);
  if (summary.errors > 0 || summary.non_2xx > 0) {
    process.stderr.write(
      `switchyard bench: ${summary.errors} connection errors and ${summary.non_2xx} non-2xx answers.\n`,
    );
    return 1;
  }
  return 0;
}
