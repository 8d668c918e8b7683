import type { MockUpstream } from '@switchyard/testing';
import { vi } from 'vitest';
import { createGateway, type Gateway } from '../src/gateway/create-gateway';
import type { GatewayOptions } from '../src/gateway/gateway-options';
import type { AbortSource } from '../src/resilience/linked-abort-controller';
import type { ResilienceEvent } from '../src/resilience/resilience-events';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../src/wire/openai-chat';

/** A chat request for `model`. */
export const ask = (model: string): ChatCompletionRequest => ({
  model,
  messages: [{ role: 'user', content: 'Hello!' }],
});

/** A gateway against the mock upstream: `primary` at /v1, `backup` at /backup/v1. */
export function gatewayFor(upstream: MockUpstream, options: Partial<GatewayOptions>): Gateway {
  return createGateway({
    providers: [
      { name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-test-primary-000000' },
      {
        name: 'backup',
        type: 'openai',
        baseUrl: `${upstream.url}/backup/v1`,
        apiKey: 'sk-test-backup-000000',
      },
    ],
    ...options,
  });
}

/** Upstream requests whose path starts with `prefix` (`/v1/` for primary, `/backup/` for backup). */
export const callsTo = (upstream: MockUpstream, prefix: string): number =>
  upstream.requests.filter((r) => r.path.startsWith(prefix)).length;

/** Resolves with the next resilience event of a type. */
export function nextEvent<T extends ResilienceEvent['type']>(
  gateway: Gateway,
  type: T,
): Promise<Extract<ResilienceEvent, { type: T }>> {
  return new Promise((resolve) => {
    let done = false;
    gateway.hooks.onResilienceEvent.tap(`wait-${type}-${Math.random()}`, (event) => {
      if (!done && event.type === type) {
        done = true;
        resolve(event as Extract<ResilienceEvent, { type: T }>);
      }
    });
  });
}

/** Resolves when the mock upstream has received `count` requests in total. */
export function upstreamReceived(upstream: MockUpstream, count: number): Promise<void> {
  if (upstream.requests.length >= count) return Promise.resolve();
  return new Promise((resolve) => {
    const check = (): void => {
      if (upstream.requests.length >= count) {
        upstream.events.off('request', check);
        resolve();
      }
    };
    upstream.events.on('request', check);
  });
}

/** Fake clocks for the engine's timers (backoff, timeouts, breaker windows); sockets stay real. */
export function useFakeClock(): void {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
}

/**
 * Runs the fake clock's due timers (bottleneck yields through `setTimeout(0)`, which the fake
 * clock schedules 1 ms ahead) and lets real I/O in, one millisecond a turn, until `done()` holds.
 */
export async function pumpUntil(done: () => boolean, maxTurns = 10_000): Promise<void> {
  for (let turn = 0; turn < maxTurns && !done(); turn++) {
    await vi.advanceTimersByTimeAsync(1);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (!done()) throw new Error(`condition not reached: ${done.toString()}`);
}

/** Pumps the fake clock (see {@link pumpUntil}) until a promise settles, and returns it. */
export async function pumped<T>(promise: Promise<T>): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await pumpUntil(() => settled);
  return promise;
}

/** Reads a stream to its end. */
export async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** The text of streamed chunks. */
export const textOf = (chunks: ChatCompletionChunk[]): string =>
  chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

/** A cancellation source that is not an AbortSignal, as the HTTP layer passes one. */
export function abortSource(): AbortSource & { abort(reason: unknown): void; listeners(): number } {
  let listeners: Array<(reason: unknown) => void> = [];
  const source = {
    aborted: false,
    reason: undefined as unknown,
    onAbort(listener: (reason: unknown) => void) {
      listeners.push(listener);
      return () => {
        listeners = listeners.filter((other) => other !== listener);
      };
    },
    abort(reason: unknown) {
      source.aborted = true;
      source.reason = reason;
      for (const listener of listeners.splice(0)) listener(reason);
    },
    listeners: () => listeners.length,
  };
  return source;
}
