import { isRedisCluster, type Logger, type RedisClient } from '@switchyard/proxy-core';
import type { Redis, RedisOptions } from 'ioredis';

/** What a {@link RedisSubscription} calls. */
export interface RedisSubscriptionHandlers {
  /** Each message published on the channel while subscribed. */
  onMessage(message: string): void;
  /**
   * Redis confirmed the subscription: at start, and again after every reconnection. Messages
   * published while it was not subscribed were not received and are not replayed.
   */
  onSubscribed?(): void;
  /** The connection that held the subscription closed: messages are missed until {@link onSubscribed}. */
  onUnsubscribed?(): void;
}

/** A channel kept subscribed on a connection of its own, through reconnections, until closed. */
export interface RedisSubscription {
  /** Whether Redis has confirmed the subscription on the current connection. */
  readonly subscribed: boolean;
  /** Resolves once the channel is first subscribed (it may never be: wait on it with a bound). */
  readonly firstSubscribed: Promise<void>;
  close(): void;
}

/** Delay before reconnection attempt `attempt` (and before asking again after a refused SUBSCRIBE), ms. */
const retryDelayMs = (attempt: number): number => Math.min(attempt * 250, 2_000);

// A subscription waits for messages indefinitely: no command timeout, SUBSCRIBE queued while
// disconnected and never given up on (maxRetriesPerRequest null: the command client's 1 would
// reject a queued SUBSCRIBE after two failed reconnections, and nothing would send it again),
// and no resubscription by ioredis, which resubscribes only channels confirmed before the
// connection dropped and tells no one when it did: SUBSCRIBE is sent here on every `ready`.
const SUBSCRIBER_OPTIONS = {
  lazyConnect: false,
  enableOfflineQueue: true,
  commandTimeout: undefined,
  maxRetriesPerRequest: null,
  autoResubscribe: false,
} as const satisfies Partial<RedisOptions>;

/**
 * Subscribes to `channel` on a connection of its own: a duplicate of a single server's client
 * (reconnecting as it does), or, on a Redis Cluster, a connection to one of its masters (a
 * message published on any node reaches every node), replaced by one to the next master when
 * it fails. SUBSCRIBE is sent again each time a connection becomes ready, and retried until
 * Redis confirms it.
 */
export function subscribeRedis(
  client: RedisClient,
  channel: string,
  handlers: RedisSubscriptionHandlers,
  logger: Logger,
): RedisSubscription {
  let connection: Redis | undefined;
  let subscribed = false;
  let subscribing = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let opened = 0;
  let resolveFirst: () => void = () => undefined;
  const firstSubscribed = new Promise<void>((resolve) => (resolveFirst = resolve));

  const later = (run: () => void, delayMs: number): void => {
    clearTimeout(timer);
    timer = setTimeout(run, delayMs);
    // a pending retry never keeps the process alive
    timer.unref();
  };

  const subscribe = (on: Redis): void => {
    if (closed || subscribed || subscribing || on !== connection) return;
    subscribing = true;
    on.subscribe(channel).then(
      () => {
        subscribing = false;
        // the reply came on this connection: it is subscribed until its 'close'
        if (closed || on !== connection) return;
        subscribed = true;
        failures = 0;
        resolveFirst();
        handlers.onSubscribed?.();
      },
      (error: unknown) => {
        subscribing = false;
        if (closed || on !== connection) return;
        // refused on a live connection (an ACL, a server busy loading): asked again, logged once
        // a streak; otherwise the connection's next 'ready' (or the next connection) sends it
        const refused = on.status === 'ready';
        if (!refused || failures === 0) {
          logger.warn({ err: { message: (error as Error).message }, channel }, 'redis subscribe failed');
        }
        if (refused) later(() => subscribe(on), retryDelayMs(++failures));
      },
    );
  };

  const open = (): void => {
    if (closed) return;
    const next = connect(client, opened++);
    if (next === undefined) {
      // a cluster whose masters are not known yet (unreachable at start): look again shortly
      later(open, retryDelayMs(opened));
      return;
    }
    connection = next;
    next.on('error', (error: Error) =>
      logger.warn({ err: { message: error.message }, channel }, 'redis subscriber error'),
    );
    next.on('message', (received: string, message: string) => {
      if (received === channel) handlers.onMessage(message);
    });
    next.on('ready', () => subscribe(next));
    next.on('close', () => {
      if (!subscribed || next !== connection) return;
      subscribed = false;
      handlers.onUnsubscribed?.();
    });
    // a cluster node's connection does not reconnect: the next master is tried instead
    next.once('end', () => {
      if (next === connection) later(open, retryDelayMs(opened));
    });
    // queued until the connection is ready
    subscribe(next);
  };

  open();
  return {
    get subscribed() {
      return subscribed;
    },
    firstSubscribed,
    close() {
      closed = true;
      clearTimeout(timer);
      subscribed = false;
      connection?.disconnect();
      connection = undefined;
    },
  };
}

/** The `attempt`th subscriber connection: the client's duplicate, or one to a cluster master in turn. */
function connect(client: RedisClient, attempt: number): Redis | undefined {
  if (!isRedisCluster(client)) return client.duplicate(SUBSCRIBER_OPTIONS);
  const masters = client.nodes('master');
  const node = masters[attempt % Math.max(masters.length, 1)];
  // the node's own options (address, credentials, TLS), which never reconnect (retryStrategy
  // null, as the cluster's): when its master is gone, 'end' moves on to another
  return node?.duplicate({ ...SUBSCRIBER_OPTIONS, retryStrategy: () => null });
}
