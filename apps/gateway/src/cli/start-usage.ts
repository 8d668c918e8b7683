// Apart from start-command.ts: `switchyard start --help` prints it without loading the gateway.

/** Usage of `switchyard start`. */
export const START_USAGE = `Usage:
  switchyard [start] [--config FILE] [--port N] [--host H] [--workers N]

Environment: SWITCHYARD_CONFIG, PORT, HOST, SWITCHYARD_WORKERS (default: one per CPU within the cgroup's quota), SWITCHYARD_SHUTDOWN_DELAY_MS, SWITCHYARD_ALLOW_OPEN,
SWITCHYARD_ALLOWED_HOSTS, LOG_LEVEL, OPENAI_API_KEY and OPENAI_BASE_URL (used when no config file is given), SWITCHYARD_MASTER_KEY, SWITCHYARD_KEY_SECRET, SWITCHYARD_METRICS_TOKEN,
REDIS_URL or REDIS_CLUSTER_NODES, DATABASE_URL; for bedrock providers AWS_REGION (else AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_BEARER_TOKEN_BEDROCK; OpenTelemetry: OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (turns
span export on), OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME (default: switchyard), OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED; NODE_ENV (production: log lines
stay JSON on a terminal, where they are pretty-printed otherwise); SWITCHYARD_ADDRESS_FILE (a file start writes the
address it listens on to, for switchyard healthcheck and the admin commands; the container image sets it).`;
