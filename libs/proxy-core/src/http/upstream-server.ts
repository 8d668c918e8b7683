import { SwitchyardError } from '../errors/switchyard-error';

/** The host and port an adapter calls, as OpenTelemetry's `server.address` / `server.port` name them. */
export interface UpstreamServer {
  /** The host name or IP address of the base URL (an IPv6 address without brackets). */
  readonly address: string;
  /** The port of the base URL, or the scheme's default (443 for `https:`, 80 for `http:`). */
  readonly port: number;
}

/**
 * The {@link UpstreamServer} of a base URL, parsed once when an adapter is made (attempt
 * spans read it on every attempt).
 * @see https://opentelemetry.io/docs/specs/semconv/http/http-spans/#http-client-span
 */
export function upstreamServerOf(baseUrl: string, provider?: string): UpstreamServer {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    // the URL is left out of the message: it may carry credentials (user:password@host)
    throw new SwitchyardError(
      'invalid_options',
      `${provider === undefined ? 'A provider' : `Provider "${provider}"`} has a base URL that is not a valid URL.`,
      { provider },
    );
  }
  const port = url.port === '' ? (url.protocol === 'http:' ? 80 : 443) : Number(url.port);
  const address = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return Object.freeze({ address, port });
}
