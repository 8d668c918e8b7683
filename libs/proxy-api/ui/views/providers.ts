import { api } from '../api';
import { h, notice, replace, table } from '../dom';
import { integer, ms, percent } from '../format';
import type { ProvidersReply } from '../types';

const REFRESH_MS = 10_000;

/** Providers: each target's breaker, limiter load and recent latency and error rate; refreshes itself. */
export function providersView(root: HTMLElement, signal: AbortSignal): void {
  const body = h('div', {});
  replace(
    root,
    h(
      'header',
      { class: 'view-head' },
      h('h1', {}, 'Providers'),
      h('button', { type: 'button', onclick: () => void load() }, 'Refresh'),
    ),
    body,
  );
  const timer = setInterval(() => void load(), REFRESH_MS);
  signal.addEventListener('abort', () => clearInterval(timer));

  async function load(): Promise<void> {
    try {
      const reply = await api<ProvidersReply>('admin/providers');
      if (signal.aborted) return;
      const minutes = Math.round(reply.window_ms / 60_000);
      replace(
        body,
        h(
          'p',
          { class: 'summary' },
          `Limits: ${reply.limiter_mode} · ${integer(reply.live_requests)} requests in flight · ${integer(reply.active_retries)} retrying`,
        ),
        reply.traffic_available
          ? null
          : notice('No SQL request log is configured: recent latency and error rates are unknown.', 'info'),
        table(
          `Targets (traffic of the last ${minutes} min)`,
          ['Target', 'Breaker', 'Limiter running / queued', 'Requests', 'Error rate', 'p50', 'p95'],
          reply.data.map((entry) => [
            entry.target,
            h('span', { class: `breaker ${entry.breaker ?? 'none'}` }, entry.breaker ?? 'not used yet'),
            entry.limiter === null ? 'no limits' : `${entry.limiter.running} / ${entry.limiter.queued}`,
            integer(entry.requests),
            percent(entry.error_rate),
            ms(entry.p50_ms),
            ms(entry.p95_ms),
          ]),
          'no target has been called yet.',
        ),
        table(
          'Resilience counters since start',
          ['Counter', 'Value'],
          Object.entries(reply.counters).map(([name, value]) => [name, integer(value)]),
        ),
      );
    } catch (error) {
      if (!signal.aborted) replace(body, notice(`Could not load providers: ${(error as Error).message}`));
    }
  }
  void load();
}
