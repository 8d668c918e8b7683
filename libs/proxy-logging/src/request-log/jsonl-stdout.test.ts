import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const requestLogSource = new URL('./create-request-log.ts', import.meta.url).href;
const loggerSource = new URL('../logs/create-logger.ts', import.meta.url).href;

/**
 * Runs `body` in a process of its own whose stdout is a pipe read slowly (a log shipper under
 * load: a pause after every read), so the pipe fills and writes to it wait; returns what it read.
 */
function readSlowly(body: string): Promise<{ text: string; status: number | null; stderr: string }> {
  const script = [
    `import { createRequestLog } from ${JSON.stringify(requestLogSource)};`,
    `import { createLogger } from ${JSON.stringify(loggerSource)};`,
    body,
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let text = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    text += chunk;
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), 2);
  });
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (status) => resolve({ text, status, stderr })));
}

describe('the JSONL request log on stdout', () => {
  it('never interleaves its rows with the log lines of the same stdout, under back-pressure', async () => {
    const { text, status, stderr } = await readSlowly(`
      // as the gateway's command line does: Node.js makes the pipe non-blocking once it is used
      process.stdout.on('error', () => undefined);
      const log = await createRequestLog({ store: 'jsonl', flushIntervalMs: 60_000 });
      const logger = createLogger({ level: 'info' });
      const rows = Array.from({ length: 100 }, (_, i) => ({ id: 'row-' + i, request_body: 'x'.repeat(20_000) }));
      const written = log.store.write(rows);
      // request lines logged while the batch drains: the event loop keeps serving
      for (let i = 0; i < 30; i++) {
        logger.info({ requestId: 'log-' + i }, 'request completed');
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await written;
      await log.close();
    `);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const lines = text.split('\n').filter((line) => line !== '');
    const unparsable = lines.filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect(unparsable.map((line) => line.slice(0, 80))).toEqual([]);
    const parsed = lines.map((line) => JSON.parse(line) as { id?: string; msg?: string });
    expect(parsed.filter((line) => line.id !== undefined)).toHaveLength(100);
    expect(parsed.filter((line) => line.msg === 'request completed')).toHaveLength(30);
  }, 60_000);
});
