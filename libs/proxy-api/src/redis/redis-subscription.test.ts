import { spawnSync } from 'node:child_process';
import { silentLogger } from '@switchyard/proxy-core';
import { startRedisServer, UNTIL_SETTLED, type TestRedisServer } from '@switchyard/testing';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectRedis, type RedisConnection } from './redis-connection';

// the tests cut connections (CLIENT KILL) and change the default user's ACL: a redis-server of their own
const serverBinary = spawnSync('redis-server', ['--version']).status === 0;

const connections: RedisConnection[] = [];
const sides: Redis[] = [];
const servers: TestRedisServer[] = [];

afterEach(async () => {
  for (const side of sides.splice(0)) side.disconnect();
  await Promise.all(connections.splice(0).map((connection) => connection.close()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function ownRedis(): Promise<{ connection: RedisConnection; admin: Redis }> {
  const server = await startRedisServer();
  servers.push(server);
  const connection = await connectRedis({ url: server.url }, silentLogger);
  connections.push(connection);
  const admin = new Redis(server.url);
  sides.push(admin);
  return { connection, admin };
}

/** Subscribes to `channel`, recording what the subscription reports. */
function recorded(connection: RedisConnection, channel: string) {
  const events: string[] = [];
  const subscription = connection.subscribe(channel, {
    onMessage: (message) => events.push(`message ${message}`),
    onSubscribed: () => events.push('subscribed'),
    onUnsubscribed: () => events.push('unsubscribed'),
  });
  return { events, subscription };
}

describe.skipIf(!serverBinary)('a Redis subscription', () => {
  it('subscribes again after its connection is cut (CLIENT KILL TYPE pubsub), and says so', async () => {
    const { connection, admin } = await ownRedis();
    const { events, subscription } = recorded(connection, 'sub:test');
    await subscription.firstSubscribed;
    expect(subscription.subscribed).toBe(true);
    await admin.publish('sub:test', 'one');
    await vi.waitFor(() => expect(events).toEqual(['subscribed', 'message one']), UNTIL_SETTLED);

    await admin.client('KILL', 'TYPE', 'pubsub');
    await vi.waitFor(() => expect(events.at(-1)).toBe('subscribed'), { timeout: 5_000 });
    expect(events).toEqual(['subscribed', 'message one', 'unsubscribed', 'subscribed']);
    expect(subscription.subscribed).toBe(true);
    expect(await admin.pubsub('NUMSUB', 'sub:test')).toEqual(['sub:test', 1]);
    await admin.publish('sub:test', 'two');
    await vi.waitFor(() => expect(events.at(-1)).toBe('message two'), UNTIL_SETTLED);
  });

  it('asks again while Redis refuses SUBSCRIBE (an ACL), until it is allowed', async () => {
    const { connection, admin } = await ownRedis();
    await admin.acl('SETUSER', 'default', 'resetchannels');
    const { events, subscription } = recorded(connection, 'sub:acl');
    // the subscriber's connection is up and its SUBSCRIBE refused (NOPERM): nothing subscribed
    await vi.waitFor(
      async () => expect(await admin.client('LIST', 'TYPE', 'NORMAL')).toMatch(/cmd=subscribe/),
      UNTIL_SETTLED,
    );
    expect(subscription.subscribed).toBe(false);
    await admin.acl('SETUSER', 'default', 'allchannels');
    await subscription.firstSubscribed;
    expect(events).toEqual(['subscribed']);
    await admin.publish('sub:acl', 'allowed');
    await vi.waitFor(() => expect(events).toEqual(['subscribed', 'message allowed']), UNTIL_SETTLED);
  });

  it('stops for good on close: no connection left subscribed, no message delivered', async () => {
    const { connection, admin } = await ownRedis();
    const { events, subscription } = recorded(connection, 'sub:closed');
    await subscription.firstSubscribed;
    subscription.close();
    expect(subscription.subscribed).toBe(false);
    await vi.waitFor(
      async () => expect(await admin.pubsub('NUMSUB', 'sub:closed')).toEqual(['sub:closed', 0]),
      UNTIL_SETTLED,
    );
    expect(events).toEqual(['subscribed']);
  });
});
