import { spawnSync } from 'node:child_process';
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

  it('writes what it holds, then a batch of lines at once (writeNow), and throws when that write fails', () => {
    const { file, lines } = destination('now.log');
    lines.write('{"log":1}\n');
    lines.writeNow('{"row":1}\n{"row":2}\n');
    expect(readFileSync(file, 'utf8')).toBe('{"log":1}\n{"row":1}\n{"row":2}\n');
    const full = new TurnBufferedDestination(pino.destination({ dest: '/dev/full', sync: true }));
    expect(() => full.writeNow('{"row":3}\n')).toThrow(/ENOSPC/);
  });

  it('listens for the process exit once, whatever the number of destinations', async () => {
    // the first test's lines added the one listener; more destinations add none
    const listeners = process.listeners('exit').filter((listener) => listener === writeHeldLines);
    expect(listeners).toHaveLength(1);
    for (let i = 0; i < 20; i++) destination(`many-${i}.log`).lines.write('{}\n');
    expect(process.listeners('exit').filter((listener) => listener === writeHeldLines)).toHaveLength(1);
    await endOfTurn();
  });
});

describe('TurnBufferedDestination at the edges of the process', () => {
  it('drops and counts the lines of a failed write, warns once per error code, and does not throw', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const lines = new TurnBufferedDestination(pino.destination({ dest: '/dev/full', sync: true }));
      lines.write('{"n":1}\n');
      lines.write('{"n":2}\n');
      await endOfTurn();
      expect(lines.droppedLines).toBe(2);
      lines.write('{"n":3}\n');
      expect(() => lines.flushSync()).not.toThrow();
      expect(lines.droppedLines).toBe(3);
      expect(warn).toHaveBeenCalledOnce();
      expect(String(warn.mock.calls[0]?.[0])).toMatch(
        /log lines could not be written and were dropped: .*ENOSPC/,
      );
    } finally {
      warn.mockRestore();
    }
  });

  it('ends and reopens the file stream after writing what it holds', () => {
    const { file, out, lines } = destination('reopen.log');
    const reopen = vi.spyOn(out, 'reopen').mockImplementation(() => undefined);
    lines.write('{"n":1}\n');
    lines.reopen();
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n');
    expect(reopen).toHaveBeenCalledOnce();
    const end = vi.spyOn(out, 'end');
    lines.write('{"n":2}\n');
    lines.end();
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
    expect(end).toHaveBeenCalledOnce();
  });

  // in a process of its own: what it writes when it exits, however it exits
  const source = new URL('./turn-buffered-destination.ts', import.meta.url).href;
  function runChild(name: string, body: string): { file: string; status: number | null } {
    const file = join(dir, name);
    const script = [
      `import { pino } from 'pino';`,
      `import { TurnBufferedDestination } from ${JSON.stringify(source)};`,
      `const lines = new TurnBufferedDestination(pino.destination({ dest: ${JSON.stringify(file)}, sync: true }));`,
      body,
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    return { file, status: child.status };
  }

  it('writes the held lines when the process exits, after an uncaught exception, and from a later exit handler', () => {
    const exited = runChild('child-exit.log', `lines.write('{"at":"before exit"}\\n'); process.exit(3);`);
    expect(exited.status).toBe(3);
    expect(readFileSync(exited.file, 'utf8')).toBe('{"at":"before exit"}\n');

    const thrown = runChild(
      'child-throw.log',
      `lines.write('{"at":"before throw"}\\n'); throw new Error('boom');`,
    );
    expect(thrown.status).toBe(1);
    expect(readFileSync(thrown.file, 'utf8')).toBe('{"at":"before throw"}\n');

    const late = runChild(
      'child-late.log',
      `lines.write('{"at":"first"}\\n'); process.on('exit', () => lines.write('{"at":"in exit handler"}\\n')); process.exit(0);`,
    );
    expect(late.status).toBe(0);
    expect(readFileSync(late.file, 'utf8')).toBe('{"at":"first"}\n{"at":"in exit handler"}\n');
  }, 30_000);
});
