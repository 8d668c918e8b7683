import { hostMatches } from '@switchyard/proxy-core';
import { LRUCache } from 'lru-cache';
import type { MeterExchange } from './meter-exchange';
import type { MeteredUsage } from './metered-usage';
import type { ProviderMeter } from './provider-meter';
import { ai21Meter } from './providers/ai21/ai21-meter';
import { algoliaMeter } from './providers/algolia/algolia-meter';
import { anthropicMeter } from './providers/anthropic/anthropic-meter';
import { assemblyAIMeter } from './providers/assemblyai/assemblyai-meter';
import { awsPollyMeter } from './providers/aws-polly/aws-polly-meter';
import { awsRekognitionMeter } from './providers/aws-rekognition/aws-rekognition-meter';
import { awsTranscribeMeter } from './providers/aws-transcribe/aws-transcribe-meter';
import { azureOpenAIMeter } from './providers/azure-openai/azure-openai-meter';
import { azureSpeechMeter } from './providers/azure-speech/azure-speech-meter';
import { bedrockMeter } from './providers/bedrock/bedrock-meter';
import { chromaMeter } from './providers/chroma/chroma-meter';
import { cohereMeter } from './providers/cohere/cohere-meter';
import { deepgramMeter } from './providers/deepgram/deepgram-meter';
import { deepSeekMeter } from './providers/deepseek/deepseek-meter';
import { elasticsearchMeter } from './providers/elasticsearch/elasticsearch-meter';
import { elevenLabsMeter } from './providers/elevenlabs/elevenlabs-meter';
import { fireworksMeter } from './providers/fireworks/fireworks-meter';
import { geminiMeter } from './providers/gemini/gemini-meter';
import { groqMeter } from './providers/groq/groq-meter';
import { huggingFaceMeter } from './providers/huggingface/huggingface-meter';
import { milvusMeter } from './providers/milvus/milvus-meter';
import { mistralMeter } from './providers/mistral/mistral-meter';
import { mongodbAtlasMeter } from './providers/mongodb-atlas/mongodb-atlas-meter';
import { openAIMeter } from './providers/openai/openai-meter';
import { openRouterMeter } from './providers/openrouter/openrouter-meter';
import { payPalMeter } from './providers/paypal/paypal-meter';
import { perplexityMeter } from './providers/perplexity/perplexity-meter';
import { pineconeMeter } from './providers/pinecone/pinecone-meter';
import { playHtMeter } from './providers/playht/playht-meter';
import { qdrantMeter } from './providers/qdrant/qdrant-meter';
import { redisMeter } from './providers/redis/redis-meter';
import { replicateMeter } from './providers/replicate/replicate-meter';
import { runwayMeter } from './providers/runway/runway-meter';
import { sendGridMeter } from './providers/sendgrid/sendgrid-meter';
import { stabilityMeter } from './providers/stability/stability-meter';
import { stripeMeter } from './providers/stripe/stripe-meter';
import { togetherMeter } from './providers/together/together-meter';
import { twilioMeter } from './providers/twilio/twilio-meter';
import { vertexMeter } from './providers/vertex/vertex-meter';
import { voyageMeter } from './providers/voyage/voyage-meter';
import { weaviateMeter } from './providers/weaviate/weaviate-meter';
import { xaiMeter } from './providers/xai/xai-meter';
import { graphqlMeter, isGraphqlExchange } from './providers/graphql/graphql-meter';

/** Every built-in provider meter, by provider name (GraphQL is detected by request shape). */
export const BUILTIN_METERS: readonly ProviderMeter[] = [
  ai21Meter,
  algoliaMeter,
  anthropicMeter,
  assemblyAIMeter,
  awsPollyMeter,
  awsRekognitionMeter,
  awsTranscribeMeter,
  azureOpenAIMeter,
  azureSpeechMeter,
  bedrockMeter,
  chromaMeter,
  cohereMeter,
  deepgramMeter,
  deepSeekMeter,
  elasticsearchMeter,
  elevenLabsMeter,
  fireworksMeter,
  geminiMeter,
  groqMeter,
  huggingFaceMeter,
  milvusMeter,
  mistralMeter,
  mongodbAtlasMeter,
  openAIMeter,
  openRouterMeter,
  payPalMeter,
  perplexityMeter,
  pineconeMeter,
  playHtMeter,
  qdrantMeter,
  redisMeter,
  replicateMeter,
  runwayMeter,
  sendGridMeter,
  stabilityMeter,
  stripeMeter,
  togetherMeter,
  twilioMeter,
  vertexMeter,
  voyageMeter,
  weaviateMeter,
  xaiMeter,
];

/** Options of {@link createMeterRegistry}. */
export interface MeterRegistryOptions {
  /** Extra meters (a plugin's own providers), consulted before the built-ins. @default [] */
  meters?: readonly ProviderMeter[];
  /** Host pattern -> provider name, for self-hosted and test endpoints (`llm.internal: openai`). @default {} */
  hostProviders?: Readonly<Record<string, string>>;
  /**
   * How many billed objects (`MeteredUsage.billedObject`) the registry remembers, each for a day,
   * so that reading one again is not billed again; 0 remembers none. Per registry (per gateway
   * instance): a read of an object billed by another instance is billed again.
   * @default 10000
   */
  billedObjectsKept?: number;
}

/** Defaults of {@link MeterRegistryOptions}. */
export const METER_REGISTRY_DEFAULTS = {
  billedObjectsKept: 10_000,
  /** How long a billed object is remembered, in milliseconds. */
  billedObjectTtlMs: 24 * 60 * 60 * 1000,
} as const;

/**
 * The usage of an object read again after it was billed: what it is and what was done, at no
 * cost (no tokens, no units), marked `billed_before`.
 */
function billedBefore(usage: MeteredUsage, id: string): MeteredUsage {
  return {
    provider: usage.provider,
    ...(usage.model === undefined ? {} : { model: usage.model }),
    ...(usage.operation === undefined ? {} : { operation: usage.operation }),
    units: {},
    attributes: { ...usage.attributes, billed_before: id },
    alreadyBilled: id,
  };
}

/** Finds the meter for a target and meters exchanges with it. */
export interface MeterRegistry {
  /** The meter of a provider name. */
  get(name: string): ProviderMeter | undefined;
  /**
   * The meter a target belongs to: a configured host mapping first; then the extra meters, one
   * whose hosts and paths both match before one whose hosts match and that has no paths; then
   * the built-ins in the same order. A built-in shadowed by an extra meter of its name is never
   * detected by its paths.
   */
  detect(url: URL): ProviderMeter | undefined;
  /**
   * Meters one exchange: the detected provider, else GraphQL when the request is GraphQL. An
   * object billed before (`billedObject`, remembered for a day) is metered at no cost.
   */
  meter(exchange: MeterExchange): MeteredUsage | undefined;
  /** Every meter, for docs and allow-lists. */
  readonly meters: readonly ProviderMeter[];
}

/**
 * Creates the meter registry: which provider a host belongs to, and how to read usage
 * from its responses.
 * @example
 * const meters = createMeterRegistry({ hostProviders: { 'llm.internal': 'openai' } });
 * meters.detect(new URL('https://api.anthropic.com/v1/messages'))?.name; // 'anthropic'
 */
export function createMeterRegistry(options: MeterRegistryOptions = {}): MeterRegistry {
  const extra = options.meters ?? [];
  const builtin = [...BUILTIN_METERS, graphqlMeter];
  const meters = [...extra, ...builtin];
  const byName = new Map<string, ProviderMeter>();
  for (const meter of meters) if (!byName.has(meter.name)) byName.set(meter.name, meter);
  const mapped = Object.entries(options.hostProviders ?? {});
  const onHost = (meter: ProviderMeter, host: string): boolean =>
    meter.hosts.some((pattern) => hostMatches(pattern, host));
  // a meter narrowed to some paths of its hosts goes before the meters of its group that take the
  // whole host, but never before an extra meter: only the meter get() gives for its name is
  // indexed (a built-in an extra meter shadows is not). Its patterns lose any g or y flag, whose
  // lastIndex would make one test depend on the last
  const byPath = (group: readonly ProviderMeter[]) =>
    group.flatMap((meter) =>
      meter.paths === undefined || byName.get(meter.name) !== meter
        ? []
        : [
            {
              meter,
              paths: meter.paths.map((path) => new RegExp(path.source, path.flags.replace(/[gy]/g, ''))),
            },
          ],
    );
  const extraByPath = byPath(extra);
  const builtinByPath = byPath(builtin);
  const kept = options.billedObjectsKept ?? METER_REGISTRY_DEFAULTS.billedObjectsKept;
  const billed =
    kept > 0
      ? new LRUCache<string, true>({ max: kept, ttl: METER_REGISTRY_DEFAULTS.billedObjectTtlMs })
      : undefined;
  const once = (usage: MeteredUsage): MeteredUsage => {
    const id = usage.billedObject;
    if (id === undefined || billed === undefined) return usage;
    const key = `${usage.provider}\u0000${id}`;
    if (billed.has(key)) return billedBefore(usage, id);
    billed.set(key, true);
    return usage;
  };
  const registry: MeterRegistry = {
    meters,
    get: (name) => byName.get(name),
    detect(url) {
      const host = url.hostname;
      for (const [pattern, name] of mapped) if (hostMatches(pattern, host)) return byName.get(name);
      const onPath = ({ meter, paths }: { meter: ProviderMeter; paths: RegExp[] }): boolean =>
        onHost(meter, host) && paths.some((path) => path.test(url.pathname));
      const wholeHost = (meter: ProviderMeter): boolean => meter.paths === undefined && onHost(meter, host);
      return (
        extraByPath.find(onPath)?.meter ??
        extra.find(wholeHost) ??
        builtinByPath.find(onPath)?.meter ??
        builtin.find(wholeHost)
      );
    },
    meter(exchange) {
      const detected = registry.detect(exchange.url);
      const usage = detected?.meter(exchange);
      if (usage !== undefined) return once(usage);
      // any host may serve GraphQL (a provider's own GraphQL API included)
      return isGraphqlExchange(exchange) ? graphqlMeter.meter(exchange) : undefined;
    },
  };
  return registry;
}

/** The host patterns of every built-in meter: the proxy's default allow-list. */
export function builtinMeterHosts(): string[] {
  return BUILTIN_METERS.flatMap((meter) => meter.hosts);
}
