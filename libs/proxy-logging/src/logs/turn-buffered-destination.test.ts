import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { TurnBufferedDestination, writeHeldLines } from './turn-buffered-destination';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-turn-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function destination(name: string): {
  file: string;
  out: ReturnType<typeof pino.destination>;
  lines: TurnBufferedDestination;
} {
  const file = join(dir, name);
  const out = pino.destination({ dest: file, sync: true });
  return { file, out, lines: new TurnBufferedDestination(out) };
}

const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TurnBufferedDestination', () => {
  it('writes the lines of one turn in one write when the turn ends', async () => {
    const { file, out, lines } = destination('turn.log');
    const write = vi.spyOn(out, 'write');
    lines.write('{"n":1}\n');
    lines.write('{"n":2}\n');
    lines.write('{"n":3}\n');
    expect(readFileSync(file, 'utf8')).toBe('');
    await endOfTurn();
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
    expect(write).toHaveBeenCalledTimes(1);
    lines.write('{"n":4}\n');
    await endOfTurn();
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n');
    expect(write).toHaveBeenCalledTimes(2);
  });

  it('writes at once past 8 KiB held, so a burst holds little memory', () => {
    const { file, lines } = destination('burst.log');
    const line = `${JSON.stringify({ text: 'x'.repeat(1000) })}\n`;
    for (let i = 0; i < 9; i++) lines.write(line);
    expect(readFileSync(file, 'utf8')).toBe(line.repeat(9));
  });

  it('writes what it holds when the process exits (writeHeldLines) and on flush', () => {
    const first = destination('exit-1.log');
    const second = destination('exit-2.log');
    first.lines.write('{"at":"exit"}\n');
    second.lines.write('{"at":"exit"}\n');
    writeHeldLines();
    expect(readFileSync(first.file, 'utf8')).toBe('{"at":"exit"}\n');
    expect(readFileSync(second.file, 'utf8')).toBe('{"at":"exit"}\n');
    const done = vi.fn();
    first.lines.write('{"at":"flush"}\n');
    first.lines.flush(done);
    expect(readFileSync(first.file, 'utf8')).toBe('{"at":"exit"}\n{"at":"flush"}\n');
    expect(done).toHaveBeenCalledOnce();
  });

  it('listens for the process exit once, whatever the number of destinations', async () => {
    const before = process.listenerCount('exit');
    for (let i = 0; i < 20; i++) destination(`many-${i}.log`).lines.write('{}\n');
    expect(process.listenerCount('exit') - before).toBeLessThanOrEqual(1);
    await endOfTurn();
  });
});
