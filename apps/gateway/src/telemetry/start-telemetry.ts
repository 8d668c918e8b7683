/** A started OpenTelemetry SDK. */
export interface Telemetry {
  /** Where spans are exported to. */
  readonly tracesUrl: string;
  /** Exports the spans still buffered, then stops the SDK. */
  shutdown(): Promise<void>;
}

/** The OTLP/HTTP traces URL the environment names, if any (a per-signal endpoint is used as given). */
export function otlpTracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return undefined;
  const traces = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim();
  if (traces !== undefined && traces !== '') return traces;
  const base = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  if (base === undefined || base === '') return undefined;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Starts the OpenTelemetry Node SDK when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: a tracer provider with a batch processor and
 * an OTLP/HTTP (JSON) exporter, `service.name` from `OTEL_SERVICE_NAME` (default
 * `switchyard`), registered globally with the W3C trace-context and baggage propagators and an
 * AsyncLocalStorage context manager. The SDK packages are imported only then.
 */
export async function startTelemetry(env: NodeJS.ProcessEnv): Promise<Telemetry | undefined> {
  const tracesUrl = otlpTracesUrl(env);
  if (tracesUrl === undefined) return undefined;
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { defaultResource, resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const serviceName = env['OTEL_SERVICE_NAME']?.trim() || 'switchyard';
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': serviceName })),
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
