import type { MeterExchange } from './meter-exchange';
import type { MeteredUsage } from './metered-usage';

/**
 * Reads the usage of one provider's API from a pass-through exchange. One meter per
 * provider folder under `usage/providers/`, each with documented-example fixtures.
 */
export interface ProviderMeter {
  /** The provider name used for pricing and the log (`openai`, `elevenlabs`, ...). */
  readonly name: string;
  /** A display name for docs. */
  readonly label: string;
  /** Host patterns that identify the provider (`api.openai.com`, `*.pinecone.io`). */
  readonly hosts: readonly string[];
  /**
   * Path patterns that narrow `hosts`, for a host that serves several providers' APIs: the
   * meter is detected only for a path one of them matches, and then before any meter of the
   * same host without paths (Claude on Vertex AI's `publishers/anthropic` paths before Gemini,
   * whose meter has the Vertex hosts). Matched against the URL's path as sent (percent-encoded,
   * without the query). A configured host mapping (`hostProviders`) still wins.
   * @default undefined (every path of `hosts`)
   */
  readonly paths?: readonly RegExp[];
  /** What is metered, for docs (`tokens (input, cached, output, reasoning)`). */
  readonly units: string;
  /** The usage of the exchange, or undefined when it used nothing billable (or failed). */
  meter(exchange: MeterExchange): MeteredUsage | undefined;
}
