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
  /** What is metered, for docs (`tokens (input, cached, output, reasoning)`). */
  readonly units: string;
  /** The usage of the exchange, or undefined when it used nothing billable (or failed). */
  meter(exchange: MeterExchange): MeteredUsage | undefined;
}
