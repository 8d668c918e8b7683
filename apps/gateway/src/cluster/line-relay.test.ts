import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineRelay } from './line-relay';

/** A destination that keeps each write apart, to see what the relay handed it in one piece. */
function recorder(options: { highWaterMark?: number } = {}): {
  destination: Writable;
  writes: string[];
  /** Completes the writes held so far (the reader took them). */
  take(): void;
  holding: boolean;
} {
  const writes: string[] = [];
  const held: (() => void)[] = [];
  const state = {
    holding: false,
    writes,
    take(): void {
      state.holding = false;
      for (const done of held.splice(0)) done();
    },
    destination: new Writable({
      highWaterMark: options.highWaterMark ?? 16 * 1024,
      write(chunk: Buffer, _encoding, done) {
        writes.push(chunk.toString());
        if (state.holding) held.push(done);
        else done();
      },
    }),
  };
  return state;
}

const lines = (writes: string[]): string[] => writes.join('').split('\n').slice(0, -1);

describe('LineRelay', () => {
  it('writes each source’s whole lines in one piece, however the chunks cut them', async () => {
    const out = recorder();
    const relay = new LineRelay(out.destination);
    const a = new PassThrough();
    const b = new PassThrough();
    const done = Promise.all([relay.add(a), relay.add(b)]);
    a.write('{"worker":"a","row":1,');
    b.write('{"worker":"b","row":1}\n{"worker":"b",');
    a.write('"more":true}\n{"worker":"a","row":2}\n{"wor');
    b.write('"row":2}\n');
    a.end('ker":"a","row":3}\n');
    b.end();
    await done;
    relay.detach();
    expect(out.destination.listenerCount('drain')).toBe(0);
    expect(out.writes).toEqual([
      '{"worker":"b","row":1}\n',
      '{"worker":"a","row":1,"more":true}\n{"worker":"a","row":2}\n',
      '{"worker":"b","row":2}\n',
      '{"worker":"a","row":3}\n',
    ]);
  });

  it('ends a source’s last line when the source ends without its newline', async () => {
    const out = recorder();
    const relay = new LineRelay(out.destination);
    const a = new PassThrough();
    const b = new PassThrough();
    const first = relay.add(a);
    const second = relay.add(b);
    a.end('whole\ncut off mid-');
    await first;
    b.end('next\n');
    await second;
    await relay.add(new PassThrough().end('later\n'));
    expect(lines(out.writes)).toEqual(['whole', 'cut off mid-', 'next', 'later']);
  });

  it('holds at most maxLineBytes of an unfinished line: past it, the line is written in parts', async () => {
    const out = recorder();
    const relay = new LineRelay(out.destination, { maxLineBytes: 8 });
    const a = new PassThrough();
    const done = relay.add(a);
    a.write('abcd');
    a.write('efgh');
    a.end('ij\n');
    await done;
    expect(out.writes).toEqual(['abcdefgh\n', 'ij\n']);
  });

  it('pauses every source while the destination is full, and resumes them when it drains', async () => {
    const out = recorder({ highWaterMark: 8 });
    out.holding = true;
    const relay = new LineRelay(out.destination);
    const a = new PassThrough();
    const b = new PassThrough();
    const done = Promise.all([relay.add(a), relay.add(b)]);
    a.write('a line longer than the destination takes\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.isPaused()).toBe(true);
    expect(b.isPaused()).toBe(true);
    // a source that comes while it is full waits too
    const c = new PassThrough();
    const third = relay.add(c);
    expect(c.isPaused()).toBe(true);
    b.end('b\n');
    a.end('a\n');
    c.end('c\n');
    out.take();
    await Promise.all([done, third]);
    expect(lines(out.writes).sort()).toEqual(['a', 'a line longer than the destination takes', 'b', 'c']);
  });

  it('drops the output once the destination is gone, never holding the sources', async () => {
    const out = recorder({ highWaterMark: 8 });
    out.holding = true;
    const relay = new LineRelay(out.destination);
    const a = new PassThrough();
    const done = relay.add(a);
    a.write('fills the destination\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.isPaused()).toBe(true);
    out.destination.destroy();
    await new Promise((resolve) => out.destination.once('close', resolve));
    expect(a.isPaused()).toBe(false);
    a.end('after it closed\n');
    await done;
    expect(out.writes).toEqual(['fills the destination\n']);
  });
});
