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

/** How long {@link RecordedReports.proxyReport} waits for a report before it fails the test. */
const REPORT_WAIT_MS = 10_000;

/** Records the reports of an app's requests, for tests of what a /proxy exchange ends in. */
export function recordReports(): RecordedReports {
  const ended: RequestContext[] = [];
  const proxyReports = (): RequestContext[] => ended.filter((context) => context.endpoint === 'proxy');
  // told of each report: a proxied exchange is metered after its response (a compressed body is
  // decoded on libuv's pool), so its report comes when it comes, not within some turns
  let reported: (() => void) | undefined;
  return {
    plugin: {
      name: 'test:ended',
      apply: (hooks) =>
        hooks.onRequestEnd.tap('test:ended', (context) => {
          ended.push(context);
          if (context.endpoint === 'proxy') reported?.();
        }),
    },
    ended,
    async proxyReport() {
      if (proxyReports().length === 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve, reject) => {
          reported = resolve;
          timer = setTimeout(
            () => reject(new Error(`No /proxy exchange was reported within ${REPORT_WAIT_MS} ms.`)),
            REPORT_WAIT_MS,
          );
        }).finally(() => {
          reported = undefined;
          clearTimeout(timer);
        });
      }
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
