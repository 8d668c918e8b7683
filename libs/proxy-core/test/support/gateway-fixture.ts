import { createMockUpstream, type MockUpstream, type MockUpstreamOptions } from '@switchyard/testing';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Gateway } from '../../src/gateway/create-gateway';

/** A mock upstream for a file's engine tests, and the gateways each test made on it. */
export interface GatewayFixture {
  /** The mock upstream, started before the file's tests. */
  readonly upstream: MockUpstream;
  /** Keeps `gateway` to be closed after the test; returns it. */
  readonly track: (gateway: Gateway) => Gateway;
}

/**
 * Starts a mock upstream before the file's tests and closes it after them; after each test,
 * closes the gateways it tracked and makes the upstream forget its requests and faults.
 */
export function useGatewayFixture(options?: MockUpstreamOptions): GatewayFixture {
  let upstream: MockUpstream | undefined;
  const gateways: Gateway[] = [];
  beforeAll(async () => {
    upstream = await createMockUpstream(options);
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
    upstream?.reset();
  });
  afterAll(async () => {
    await upstream?.close();
  });
  return {
    get upstream() {
      if (upstream === undefined)
        throw new Error('the mock upstream starts in beforeAll: use it inside a test or hook');
      return upstream;
    },
    track(gateway) {
      gateways.push(gateway);
      return gateway;
    },
  };
}
