import type { GatewayPlugin, RequestContext, ResolveAll } from '@switchyard/proxy-core';
import { expect } from 'vitest';

/** A DNS resolver that answers every name with 127.0.0.1: each host a test names is the local mock upstream. */
export const resolveToLoopback: ResolveAll = (_host, callback) =>
  callback(null, [{ address: '127.0.0.1', family: 4 }]);

/** The reports (`onRequestEnd`) of an app's requests, recorded by a plugin. */
export interface RecordedReports {
  /** Add to `gateway.plugins`. */
  readonly plugin: GatewayPlugin;
  /** Every report since the last {@link RecordedReports.proxyReport} or clear. */
  readonly ended: RequestContext[];
  /** The one report of the /proxy exchange just made (it may come after the client's last byte); clears what was recorded. */
  proxyReport(): Promise<RequestContext>;
  /** Forgets what was recorded (before each test). */
  clear(): void;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Records the reports of an app's requests, for tests of what a /proxy exchange ends in. */
export function recordReports(): RecordedReports {
  const ended: RequestContext[] = [];
  const proxyReports = (): RequestContext[] => ended.filter((context) => context.endpoint === 'proxy');
  return {
    plugin: {
      name: 'test:ended',
      apply: (hooks) => hooks.onRequestEnd.tap('test:ended', (context) => ended.push(context)),
    },
    ended,
    async proxyReport() {
      for (let i = 0; i < 500 && proxyReports().length === 0; i += 1) await turn();
      // a second report would come in the same turns as the first: give it the chance to show
      for (let i = 0; i < 20; i += 1) await turn();
      const reports = proxyReports();
      expect(reports).toHaveLength(1);
      ended.length = 0;
      return reports[0]!;
    },
    clear() {
      ended.length = 0;
    },
  };
}
