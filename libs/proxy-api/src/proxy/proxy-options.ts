import { Type, type Static } from '@sinclair/typebox';
import {
  GATEWAY_DEFAULTS,
  isValidHeaderValue,
  schemaProblems,
  SwitchyardError,
  timerDelaySchema,
  type ResolveAll,
} from '@switchyard/proxy-core';
import type { MeterRegistry, ProviderMeter } from '@switchyard/proxy-logging';

/** Built-in route prefixes of the universal proxy: `/proxy/<prefix>/...` -> `<base>/...`. */
export const BUILTIN_PROXY_ROUTES: Readonly<Record<string, string>> = {
  openai: 'https://api.openai.com',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
  mistral: 'https://api.mistral.ai',
  groq: 'https://api.groq.com',
  cohere: 'https://api.cohere.com',
  ai21: 'https://api.ai21.com',
  huggingface: 'https://router.huggingface.co',
  together: 'https://api.together.xyz',
  deepseek: 'https://api.deepseek.com',
  openrouter: 'https://openrouter.ai',
  fireworks: 'https://api.fireworks.ai',
  xai: 'https://api.x.ai',
  replicate: 'https://api.replicate.com',
  perplexity: 'https://api.perplexity.ai',
  elevenlabs: 'https://api.elevenlabs.io',
  assemblyai: 'https://api.assemblyai.com',
  deepgram: 'https://api.deepgram.com',
  playht: 'https://api.play.ht',
  voyage: 'https://api.voyageai.com',
  stability: 'https://api.stability.ai',
  runway: 'https://api.dev.runwayml.com',
  chroma: 'https://api.trychroma.com',
  stripe: 'https://api.stripe.com',
  paypal: 'https://api-m.paypal.com',
  twilio: 'https://api.twilio.com',
  sendgrid: 'https://api.sendgrid.com',
};

/** Defaults of {@link ProxyOptions}, in one place. */
export const PROXY_DEFAULTS = {
  /** Response bytes kept for metering (head and tail beyond this); the client always gets every byte. */
  maxCaptureBytes: 8 * 1024 * 1024,
  /** Request bytes kept for metering (model names, TTS text, GraphQL documents). */
  maxRequestCaptureBytes: 1024 * 1024,
  /** Time to the upstream's response headers. */
  headersTimeoutMs: 300_000,
  /**
   * Longest a proxied exchange may take, to the last byte of its response: six times the
   * gateway's default `/v1` deadline, above an LLM stream of the longest outputs at a slow pace.
   */
  requestTimeoutMs: 60 * 60_000,
  /** Longest silence of the upstream's response body, the same as the gateway's stream idle timeout. */
  bodyIdleTimeoutMs: GATEWAY_DEFAULTS.streamIdleTimeoutMs,
  /** Whether clients may name any allow-listed target with `x-switchyard-target`. */
  allowTargetHeader: true,
} as const;

/**
 * A provider key the gateway holds and injects, only towards that provider's own hosts, over
 * https on the default port, or to an origin the operator configured exactly.
 */
export const ProviderKeySchema = Type.Object(
  {
    /** The header value, sent as is (`Bearer sk-...`). */
    value: Type.String({ minLength: 1 }),
    /** The header to set. @default "authorization" */
    header: Type.Optional(Type.String({ minLength: 1, pattern: '^[A-Za-z0-9-]+$' })),
    /**
     * Where the key may go. A host pattern (`api.openai.com`, `my-index.svc.pinecone.io`,
     * `*.openai.azure.com`) is reached over https on port 443 only; an origin
     * (`http://10.0.0.5:8000`) is reached exactly as written, plain http included. The origin
     * of a `routes` entry whose host is one of these hosts counts as such an origin, under the
     * route's base path only. Without `hosts`, the provider's built-in exact host names: a
     * wildcard host of a meter (`*.endpoints.huggingface.cloud`, `*.pinecone.io`) also matches
     * other tenants' endpoints, so it is never a default, and a key whose provider has no other
     * host is refused until `hosts` names where it goes.
     * @default the provider's built-in hosts without wildcards
     */
    hosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
);

/** A provider key of the proxy options (see {@link ProviderKeySchema}). */
export type ProviderKey = Static<typeof ProviderKeySchema>;

/** The serialisable proxy options (the gateway's `proxy` config section). */
export const ProxyConfigSchema = Type.Object(
  {
    /** Route prefixes added to (or replacing) the built-in ones: `{ "local": "http://10.0.0.5:8000" }`. @default {} */
    routes: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$' }), Type.String({ pattern: '^https?://' })),
    ),
    /**
     * Host patterns allowed as targets besides the route hosts and the metered providers' hosts;
     * `*` is any host by name; `allowAddresses` applies to no host a wildcard entry admits. @default []
     */
    allowHosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /**
     * Allow private and loopback addresses; not link-local ones (169.254.0.0/16, fe80::/10) nor
     * cloud metadata addresses, which only `allowAddresses` opens. @default false
     */
    allowPrivateNetworks: Type.Optional(Type.Boolean()),
    /**
     * Single non-public IP addresses to allow (a local model server), to the routes' base URLs
     * and to hosts an exact (wildcard-free) `allowHosts` entry or built-in provider host names. @default []
     */
    allowAddresses: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /** Host pattern -> metered provider, for self-hosted and test endpoints. @default {} */
    hostProviders: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }))),
    /** Provider keys held by the gateway, by metered provider name. @default {} */
    providerKeys: Type.Optional(Type.Record(Type.String({ minLength: 1 }), ProviderKeySchema)),
    /** Whether `x-switchyard-target` may name a target. @default true */
    allowTargetHeader: Type.Optional(Type.Boolean()),
    /** Response bytes kept for metering. @default 8388608 */
    maxCaptureBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
    /** Time to the upstream's response headers in milliseconds, at most `MAX_TIMER_MS`. @default 300000 */
    headersTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
    /**
     * Longest a proxied exchange may take in milliseconds, from the route taking the request to
     * the last byte of the response, however the upstream keeps sending (the `/proxy` side of
     * the gateway's `requestTimeoutMs`). Then the upstream call is cancelled and the exchange
     * logged as `request_timeout`: a 504 before the upstream's headers, after them a cut
     * response (its connection closed, also when the upstream is done and a client reading
     * slowly has the rest still to read). At most `MAX_TIMER_MS` of `@switchyard/proxy-core`.
     * @default 3600000
     */
    requestTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
    /**
     * Longest silence of the upstream's response body in milliseconds, before its first byte
     * and between two chunks; then the response is cut and logged as `upstream_timeout`. A long
     * stream that keeps sending is cut only by `requestTimeoutMs`. At most `MAX_TIMER_MS`.
     * @default 30000
     */
    bodyIdleTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/** The serialisable proxy options (see {@link ProxyConfigSchema}). */
export type ProxyConfig = Static<typeof ProxyConfigSchema>;

/** Options of the universal proxy (`proxy` in the app options). */
export interface ProxyOptions extends ProxyConfig {
  /** Extra meters for providers of your own. @default [] */
  meters?: ProviderMeter[];
  /** A meter registry to use instead of building one. */
  meterRegistry?: MeterRegistry;
  /** The DNS resolver of the guarded agent (tests). @default the OS resolver */
  resolve?: ResolveAll;
}

/** Every problem of the proxy options' serialisable fields against {@link ProxyConfigSchema} (`proxy/...: ...`). */
export function proxyConfigProblems(options: ProxyOptions): string[] {
  const { meters: _meters, meterRegistry: _registry, resolve: _resolve, ...config } = options;
  const problems = schemaProblems(ProxyConfigSchema, config, 'proxy');
  if (problems.length > 0) return problems;
  // the schema checks the scheme only: a port out of range or a space in the host passes it
  for (const [name, base] of Object.entries(config.routes ?? {}))
    if (!URL.canParse(base)) problems.push(`proxy/routes/${name}: is not a valid URL`);
  // a key file's trailing newline would fail every request the key is injected into
  for (const [name, key] of Object.entries(config.providerKeys ?? {}))
    if (!isValidHeaderValue(key.value))
      problems.push(
        `proxy/providerKeys/${name}/value: holds a line break, another control character or a character above U+00FF, which no header value may`,
      );
  return problems;
}

/** Checks the proxy options' serialisable fields, every problem in one `invalid_options` error. */
export function validateProxyOptions(options: ProxyOptions): void {
  const problems = proxyConfigProblems(options);
  if (problems.length > 0)
    throw new SwitchyardError('invalid_options', `Invalid proxy options:\n${problems.join('\n')}`);
}
