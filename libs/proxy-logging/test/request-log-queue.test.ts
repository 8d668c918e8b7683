import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestLogQueue } from '../src/request-log/request-log-queue';
import type { RequestLogRow } from '../src/request-log/request-log-row';
import type { RequestLogStore } from '../src/request-log/request-log-store';
import { row } from './request-log-fixtures';

/** A store whose writes finish when the test says so, recording the batch sizes. */
function heldStore() {
  const batches: string[][] = [];
  const pending: Array<() => void> = [];
  const store: RequestLogStore = {
    kind: 'held',
    write(rows: readonly RequestLogRow[]) {
      batches.push(rows.map((r) => r.id));
      return new Promise<void>((resolve) => pending.push(resolve));
    },
    close: async () => undefined,
  };
  const finishWrite = async () => {
    pending.shift()?.();
    // let the queue see the write end and decide what comes next
    await vi.advanceTimersByTimeAsync(0);
  };
  return { store, batches, finishWrite };
}

const rows = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => row({ id: `r${from + i}` }));

/** A row whose bodies hold `chars` characters between them. */
const withBodies = (id: string, chars: number) =>
  row({
    id,
    request_body: 'q'.repeat(Math.ceil(chars / 2)),
    response_body: 'a'.repeat(Math.floor(chars / 2)),
  });

describe('RequestLogQueue bound on body characters', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('drops and counts a row whose bodies would take the queue past maxQueuedBodyChars, as a row past maxQueuedRows', async () => {
    const { store, batches, finishWrite } = heldStore();
    const queue = new RequestLogQueue({
      store,
      batchSize: 100,
      maxQueuedBodyChars: 100,
      flushIntervalMs: 1000,
    });
    expect(queue.push(withBodies('a', 40))).toBe(true);
    expect(queue.push(withBodies('b', 60))).toBe(true);
    expect(queue.stats).toMatchObject({ queued: 2, queuedBodyChars: 100, dropped: 0 });
    // past the bound by one character: dropped, as a row past maxQueuedRows is
    expect(queue.push(withBodies('c', 1))).toBe(false);
    // a row without bodies takes no characters: only maxQueuedRows bounds it
    expect(queue.push(row({ id: 'd' }))).toBe(true);
    expect(queue.stats).toMatchObject({ queued: 3, queuedBodyChars: 100, dropped: 1 });

    // the rows written give their characters back
    await vi.advanceTimersByTimeAsync(1000);
    expect(batches).toEqual([['a', 'b', 'd']]);
    expect(queue.push(withBodies('e', 50))).toBe(false); // still in the queue while written
    await finishWrite();
    expect(queue.stats).toMatchObject({ queued: 0, queuedBodyChars: 0, written: 3, dropped: 2 });
    expect(queue.push(withBodies('f', 100))).toBe(true);
    expect(queue.stats).toMatchObject({ queued: 1, queuedBodyChars: 100 });
  });

  it('keeps the characters of a batch the store failed to write, and gives back those of rows dropped at shutdown', async () => {
    let fail = true;
    const store: RequestLogStore = {
      kind: 'flaky',
      write: async () => {
        if (fail) throw new Error('down');
      },
      close: async () => undefined,
    };
    const queue = new RequestLogQueue({
      store,
      maxQueuedBodyChars: 100,
      flushIntervalMs: 1000,
      retryMinMs: 500,
      flushTimeoutMs: 1000,
    });
    queue.push(withBodies('a', 70));
    await vi.advanceTimersByTimeAsync(1000);
    expect(queue.stats).toMatchObject({ queued: 1, queuedBodyChars: 70, storeErrors: 1 });
    expect(queue.push(withBodies('b', 31))).toBe(false);
    expect(queue.push(withBodies('c', 30))).toBe(true);
    fail = false;
    await vi.advanceTimersByTimeAsync(500);
    expect(queue.stats).toMatchObject({ queued: 0, queuedBodyChars: 0, written: 2, dropped: 1 });

    fail = true;
    queue.push(withBodies('d', 90));
    const closing = queue.close();
    await vi.advanceTimersByTimeAsync(1000);
    await closing;
    expect(queue.stats).toMatchObject({ queued: 0, queuedBodyChars: 0, dropped: 2 });
  });
});

describe('RequestLogQueue batching', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes a full batch at once, and leaves rows that arrive during the write for the next interval', async () => {
    const { store, batches, finishWrite } = heldStore();
    const queue = new RequestLogQueue({ store, batchSize: 3, flushIntervalMs: 1000 });
    for (const r of rows(0, 3)) queue.push(r);
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([['r0', 'r1', 'r2']]);

    // two rows arrive while the batch is being written
    for (const r of rows(3, 2)) queue.push(r);
    await finishWrite();
    expect(batches).toHaveLength(1);
    expect(queue.stats).toMatchObject({ written: 3, queued: 2 });

    await vi.advanceTimersByTimeAsync(999);
    expect(batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches[1]).toEqual(['r3', 'r4']);
    await finishWrite();
    expect(queue.stats).toMatchObject({ written: 5, queued: 0 });
  });

  it('goes on with full batches that queued up during a write', async () => {
    const { store, batches, finishWrite } = heldStore();
    const queue = new RequestLogQueue({ store, batchSize: 2, flushIntervalMs: 1000 });
    for (const r of rows(0, 2)) queue.push(r);
    await vi.advanceTimersByTimeAsync(0);
    for (const r of rows(2, 5)) queue.push(r);
    await finishWrite();
    await finishWrite();
    await finishWrite();
    expect(batches).toEqual([
      ['r0', 'r1'],
      ['r2', 'r3'],
      ['r4', 'r5'],
    ]);
    // the last row is a partial batch: it waits for the interval
    expect(queue.stats).toMatchObject({ written: 6, queued: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(batches[3]).toEqual(['r6']);
  });

  it('writes every row, partial batches included, on flush', async () => {
    const { store, batches, finishWrite } = heldStore();
    const queue = new RequestLogQueue({ store, batchSize: 3, flushIntervalMs: 60_000 });
    for (const r of rows(0, 3)) queue.push(r);
    await vi.advanceTimersByTimeAsync(0);
    for (const r of rows(3, 4)) queue.push(r);
    const flushed = queue.flush();
    await finishWrite();
    await finishWrite();
    await finishWrite();
    await flushed;
    expect(batches).toEqual([['r0', 'r1', 'r2'], ['r3', 'r4', 'r5'], ['r6']]);
    expect(queue.stats).toMatchObject({ written: 7, queued: 0 });
  });
});
