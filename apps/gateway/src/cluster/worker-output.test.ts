import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OUTPUT_IDLE_AFTER_EXIT_MS, workerOutput } from './worker-output';

/** A destination collecting what it is written. */
function collector(): { stream: Writable; text(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

/** A destination whose reader never reads: its first write fills it, and it never drains. */
function stuck(): Writable {
  return new Writable({ highWaterMark: 1, write: () => undefined });
}

/** A forked worker as the primary sees it: its piped stdout and stderr, and its exit. */
function fakeWorker(): ChildProcess & { stdout: PassThrough; stderr: PassThrough } {
  return Object.assign(new EventEmitter(), {
    stdout: new PassThrough(),
    stderr: new PassThrough(),
  }) as unknown as ChildProcess & { stdout: PassThrough; stderr: PassThrough };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('workerOutput', () => {
  it('pipes stdout and stderr to the primary, but lets the workers share a terminal', () => {
    expect(workerOutput(collector().stream, collector().stream).stdio).toEqual([
      'inherit',
      'pipe',
      'pipe',
      'ipc',
    ]);
    const terminal = Object.assign(collector().stream, { isTTY: true });
    expect(workerOutput(terminal, collector().stream).stdio).toEqual(['inherit', 'inherit', 'pipe', 'ipc']);
  });

  it("relays a worker's stdout and stderr to the primary's, each to its own, until both end", async () => {
    const out = collector();
    const err = collector();
    const output = workerOutput(out.stream, err.stream);
    const worker = fakeWorker();
    const relayed = output.relay(worker);
    worker.stdout.end('{"row":1}\n');
    worker.stderr.end('a warning\n');
    worker.emit('exit', 0, null);
    await relayed;
    output.close();
    expect(out.text()).toBe('{"row":1}\n');
    expect(err.text()).toBe('a warning\n');
  });

  it('stops reading a worker’s output left open and idle after its exit (a process it started holds the pipe)', async () => {
    vi.useFakeTimers();
    const out = collector();
    const output = workerOutput(out.stream, collector().stream);
    const worker = fakeWorker();
    let done = false;
    const relayed = output.relay(worker).then(() => (done = true));
    worker.stderr.end();
    worker.stdout.write('the last line, cut');
    worker.emit('exit', 1, null);
    await vi.advanceTimersByTimeAsync(OUTPUT_IDLE_AFTER_EXIT_MS - 1);
    // what still comes counts as activity: the wait starts again
    worker.stdout.write(' short\n');
    await vi.advanceTimersByTimeAsync(OUTPUT_IDLE_AFTER_EXIT_MS - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await relayed;
    expect(worker.stdout.destroyed).toBe(true);
    expect(out.text()).toBe('the last line, cut short\n');
  });

  it('abandons output a stdout that is never read keeps paused after the worker exited: every relay resolves', async () => {
    vi.useFakeTimers();
    const output = workerOutput(stuck(), collector().stream);
    const worker = fakeWorker();
    let done = false;
    const relayed = output.relay(worker).then(() => (done = true));
    worker.stdout.write('fills the destination\n');
    worker.stdout.end('never read\n');
    worker.stderr.end();
    worker.emit('exit', 0, null);
    // paused, not idle: the wait after the worker's exit starts again and again
    await vi.advanceTimersByTimeAsync(OUTPUT_IDLE_AFTER_EXIT_MS * 10);
    expect(done).toBe(false);
    output.abandon();
    await relayed;
    expect(worker.stdout.destroyed).toBe(true);
  });

  it('abandons output a process the worker started keeps writing to after its exit', async () => {
    vi.useFakeTimers();
    const out = collector();
    const output = workerOutput(out.stream, collector().stream);
    const worker = fakeWorker();
    let done = false;
    const relayed = output.relay(worker).then(() => (done = true));
    worker.stderr.end();
    worker.emit('exit', 0, null);
    for (let i = 0; i < 10; i += 1) {
      worker.stdout.write(`from a grandchild ${i}\n`);
      await vi.advanceTimersByTimeAsync(OUTPUT_IDLE_AFTER_EXIT_MS - 1);
    }
    expect(done).toBe(false);
    output.abandon();
    await relayed;
    expect(worker.stdout.destroyed).toBe(true);
    expect(out.text()).toContain('from a grandchild 9\n');
  });
});
