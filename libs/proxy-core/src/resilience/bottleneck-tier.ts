import { createHash } from 'node:crypto';
import Bottleneck from 'bottleneck';
import type { TargetLimits } from './resilience-options';

/** One minute, the window of `requestsPerMinute` and `tokensPerMinute`. */
const MINUTE_MS = 60_000;

/** The bottleneck instances that enforce one target's limits in one place (local or Redis). */
export interface BottleneckTier {
  /** Concurrency and requests per minute (weight 1 per call). */
  readonly slots: Bottleneck;
  /** Tokens per minute (weight = estimated tokens), when limited. */
  readonly tokens: Bottleneck | undefined;
}

/** Where a tier keeps its state. */
export type TierStore =
  { kind: 'local' } | { kind: 'redis'; connection: Bottleneck.IORedisConnection; id: string };

function limiterOptions(store: TierStore, suffix: string): Bottleneck.ConstructorOptions {
  if (store.kind === 'local') return {};
  // keys expire after a quiet hour so abandoned prefixes do not pile up in a shared Redis
  return {
    datastore: 'ioredis',
    connection: store.connection,
    id: `${store.id}:${suffix}`,
    clearDatastore: false,
    timeout: 3_600_000,
  };
}

/**
 * A short tag of a target's limits, part of its shared limiter id: bottleneck keeps the
 * settings first written under an id while its keys live (we never clear them, so instances
 * can share them), so changed limits must get keys of their own to take effect.
 */
export function limitsTag(limits: TargetLimits): string {
  const settings = [
    limits.maxConcurrent ?? null,
    limits.requestsPerMinute ?? null,
    limits.tokensPerMinute ?? null,
  ];
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 8);
}

/** The message of the error bottleneck rejects a job it dropped with (its `highWater` overflowed). */
const DROPPED_MESSAGE = 'This job has been dropped by Bottleneck';

/** Whether a job's rejection is bottleneck dropping it from a full queue (not a store failure). */
export function isDroppedJob(error: unknown): boolean {
  return error instanceof Bottleneck.BottleneckError && error.message === DROPPED_MESSAGE;
}

/**
 * Builds the bottleneck instances for one target's limits. `maxQueue` is each one's `highWater`
 * with the `OVERFLOW` strategy: bottleneck admits a job that can run at once whatever the queue,
 * and drops (rejects, see {@link isDroppedJob}) one that would have to wait behind `maxQueue`
 * others. It decides as it takes jobs one at a time, so a burst of calls that all fit runs, where
 * a count of the calls arriving could not tell which of them will wait.
 */
export function createBottleneckTier(
  limits: TargetLimits,
  store: TierStore,
  onError: (error: unknown) => void,
  maxQueue: number,
): BottleneckTier {
  const queue = { highWater: maxQueue, strategy: Bottleneck.strategy.OVERFLOW };
  const rpm = limits.requestsPerMinute;
  const slots = new Bottleneck({
    ...limiterOptions(store, 'slots'),
    ...queue,
    maxConcurrent: limits.maxConcurrent ?? null,
    ...(rpm === undefined
      ? {}
      : { reservoir: rpm, reservoirRefreshAmount: rpm, reservoirRefreshInterval: MINUTE_MS }),
  });
  slots.on('error', onError);
  const tpm = limits.tokensPerMinute;
  let tokens: Bottleneck | undefined;
  if (tpm !== undefined) {
    tokens = new Bottleneck({
      ...limiterOptions(store, 'tokens'),
      ...queue,
      reservoir: tpm,
      reservoirRefreshAmount: tpm,
      reservoirRefreshInterval: MINUTE_MS,
    });
    tokens.on('error', onError);
  }
  if (store.kind === 'redis') {
    // shared settings are written by the first instance to register under the id, and an id is
    // kept while instances use it: the queue bound is each instance's own (bottleneck compares it
    // with the instance's local queue), so this instance's is written over whatever is stored
    for (const limiter of [slots, tokens]) {
      // a promise at run time (bottleneck 2.19), though its types say the limiter
      if (limiter !== undefined)
        void (limiter.updateSettings(queue) as unknown as Promise<unknown>).catch(onError);
    }
  }
  return { slots, tokens };
}

/** Stops a tier's timers (and, for Redis, its registration). */
export async function closeBottleneckTier(tier: BottleneckTier): Promise<void> {
  await Promise.allSettled([tier.slots.disconnect(false), tier.tokens?.disconnect(false)]);
}

// bottleneck's IORedisConnection subscribes on a duplicate client it keeps as `subscriber`
// (not in its types)
interface SubscriberOf {
  subscriber?: { status: string; once(event: 'ready', listener: () => void): unknown };
}

/**
 * Closes a Redis tier replaced after an outage. Unregistering unsubscribes on the connection's
 * subscriber, and bottleneck (2.19) drops that promise: while the subscriber is still
 * reconnecting (it does so on its own, after the main client), the failure would surface as an
 * unhandled rejection. So the tier is closed once the subscriber is ready again.
 */
export async function closeRedisTier(
  tier: BottleneckTier,
  connection: Bottleneck.IORedisConnection,
): Promise<void> {
  const subscriber = (connection as unknown as SubscriberOf).subscriber;
  if (subscriber !== undefined && subscriber.status !== 'ready') {
    await new Promise<void>((resolve) => {
      subscriber.once('ready', resolve);
    });
  }
  await closeBottleneckTier(tier);
}
