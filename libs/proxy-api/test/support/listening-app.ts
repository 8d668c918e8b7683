import { createMockUpstream, type MockUpstream, type MockUpstreamOptions } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createApp, type AppOptions } from '../../src/index';

/** A mock upstream and an app listening on 127.0.0.1, for tests over real HTTP. */
export interface ListeningApp {
  readonly upstream: MockUpstream;
  /** The mock upstream's port, for a target URL that names another host (resolved to it by a stubbed DNS). */
  readonly upstreamPort: string;
  readonly app: FastifyInstance;
  /** The app's address: `http://127.0.0.1:<port>`. */
  readonly base: string;
}

/**
 * Before the file's tests, starts a mock upstream and the app `options` makes for it, listening
 * on a port from the OS; after them, closes both. Before each test the upstream forgets its
 * requests and faults.
 */
export function useListeningApp(
  options: (upstream: MockUpstream) => AppOptions,
  upstreamOptions?: MockUpstreamOptions,
): ListeningApp {
  let upstream: MockUpstream | undefined;
  let app: FastifyInstance | undefined;
  let base = '';
  beforeAll(async () => {
    upstream = await createMockUpstream(upstreamOptions);
    app = createApp(options(upstream));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });
  beforeEach(() => upstream?.reset());
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the app starts in beforeAll: use it inside a test or hook');
    return value;
  };
  return {
    get upstream() {
      return started(upstream);
    },
    get upstreamPort() {
      return new URL(started(upstream).url).port;
    },
    get app() {
      return started(app);
    },
    get base() {
      started(app);
      return base;
    },
  };
}
