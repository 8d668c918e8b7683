import { ConfigError } from '../config/config-error';
import { envValue } from '../config/env-value';

/** A started OpenTelemetry SDK. */
export interface Telemetry {
  /** Where spans are exported to. */
  readonly tracesUrl: string;
  /** Exports the spans still buffered, then stops the SDK. */
  shutdown(): Promise<void>;
}

/**
 * The OTLP/HTTP traces URL the environment names, if any (a per-signal endpoint is used as
 * given). A value that is not an http(s) URL is a {@link ConfigError} naming its variable (not
 * the value, which may hold credentials):
 * the exporter would refuse it at start with no variable named (or, for another scheme,
 * fail every export). `start` and `config validate` both check it here.
 */
export function otlpTracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  if (envValue(env, 'OTEL_SDK_DISABLED')?.trim().toLowerCase() === 'true') return undefined;
  const traces = envValue(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')?.trim();
  if (traces !== undefined) return httpUrl(traces, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = envValue(env, 'OTEL_EXPORTER_OTLP_ENDPOINT')?.trim();
  if (base === undefined) return undefined;
  httpUrl(base, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

function httpUrl(value: string, variable: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError('the environment', [
      `${variable} is not an http:// or https:// URL (an OTLP/HTTP collector, e.g. http://collector:4318)`,
    ]);
  }
  return value;
}

/** The spans' `service.name` when neither `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES` names one. */
const DEFAULT_SERVICE_NAME = 'switchyard';

/**
 * Starts the OpenTelemetry Node SDK when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: a tracer provider with a batch processor and
 * an OTLP/HTTP (JSON) exporter, registered globally with the W3C trace-context and baggage
 * propagators and an AsyncLocalStorage context manager. Its resource: the SDK's defaults, the
 * attributes of `OTEL_RESOURCE_ATTRIBUTES` (the SDK's env detector reads the process
 * environment), and `service.name` from `OTEL_SERVICE_NAME`, else `OTEL_RESOURCE_ATTRIBUTES`,
 * else `switchyard`. The SDK packages are imported only then.
 */
export async function startTelemetry(env: NodeJS.ProcessEnv): Promise<Telemetry | undefined> {
  const tracesUrl = otlpTracesUrl(env);
  if (tracesUrl === undefined) return undefined;
  const [
    { NodeTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { defaultResource, detectResources, envDetector, resourceFromAttributes },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  // each later one wins: the SDK's defaults, the gateway's name, what the SDK's env detector reads
  // from the process environment (OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME), and the
  // OTEL_SERVICE_NAME of `env` (the same variable when `start` runs it)
  const serviceName = envValue(env, 'OTEL_SERVICE_NAME')?.trim();
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': DEFAULT_SERVICE_NAME }))
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(serviceName === undefined ? null : resourceFromAttributes({ 'service.name': serviceName }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl }))],
  });
  // the default propagator: W3C trace context and baggage
  provider.register();
  return {
    tracesUrl,
    async shutdown() {
      await provider.shutdown();
    },
  };
}
