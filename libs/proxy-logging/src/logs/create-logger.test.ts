import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLogLines as capture } from '@switchyard/testing';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, reopenLogFile } from './create-logger';
import { SECRET_FIELDS, SECRET_HEADERS } from './log-redact-paths';

const PLANTED = 'sk-planted-0123456789abcdef';

/** pino-pretty is an optional peer: installed by `npm ci`, possibly absent from an older node_modules. */
function prettyInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    if (process.env['CI'] !== undefined && process.env['CI'] !== '')
      throw new Error('pino-pretty is not installed: run npm ci.');
    process.stderr.write(
      '\n!!! WARNING: pino-pretty is not installed (npm ci); SKIPPING the pretty output test. !!!\n\n',
    );
    return false;
  }
}

describe('createLogger redaction', () => {
  it.each(SECRET_HEADERS)('redacts the %s header of a request, an error and an error request', (name) => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    const error = Object.assign(new Error('upstream said no'), {
      headers: { [name]: PLANTED },
      request: { headers: { [name]: PLANTED } },
    });
    logger.info(
      { req: { headers: { [name]: PLANTED, accept: 'application/json' } }, headers: { [name]: PLANTED } },
      'request',
    );
    logger.error({ err: error }, 'failed');
    expect(out.text()).not.toContain(PLANTED);
    const [request, failed] = out.lines();
    expect(request).toMatchObject({
      req: { headers: { [name]: '[redacted]', accept: 'application/json' } },
      headers: { [name]: '[redacted]' },
    });
    expect(failed).toMatchObject({
      err: {
        message: 'upstream said no',
        headers: { [name]: '[redacted]' },
        request: { headers: { [name]: '[redacted]' } },
      },
    });
  });

  it.each(SECRET_FIELDS)('redacts the %s field at the top and inside config objects', (field) => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    logger.info(
      {
        [field]: PLANTED,
        provider: { name: 'openai', [field]: PLANTED },
        config: { providers: [{ name: 'bedrock', [field]: PLANTED }] },
      },
      'config',
    );
    expect(out.text()).not.toContain(PLANTED);
    expect(out.lines()[0]).toMatchObject({
      [field]: '[redacted]',
      provider: { name: 'openai', [field]: '[redacted]' },
      config: { providers: [{ name: 'bedrock', [field]: '[redacted]' }] },
    });
  });

  it('redacts static client keys and the universal proxy provider keys in a config', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    logger.info(
      {
        config: {
          keys: [{ name: 'team', key: 'sk-sy-planted-client-key' }],
          proxy: { providerKeys: { openai: { value: `Bearer ${PLANTED}` } } },
        },
      },
      'config',
    );
    expect(out.text()).not.toContain(PLANTED);
    expect(out.text()).not.toContain('sk-sy-planted-client-key');
    expect(out.lines()[0]).toMatchObject({
      config: {
        keys: [{ name: 'team', key: '[redacted]' }],
        proxy: { providerKeys: { openai: { value: '[redacted]' } } },
      },
    });
  });

  it('redacts extra paths given in the options', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, redactPaths: ['tenant.token'] });
    logger.info({ tenant: { id: 't1', token: PLANTED } }, 'extra');
    expect(out.lines()[0]).toMatchObject({ tenant: { id: 't1', token: '[redacted]' } });
  });
});

describe('createLogger level and destination', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-logger-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends JSON lines to a file destination, creating its folder, by the end of the turn they were logged in', async () => {
    const file = join(dir, 'nested', 'gateway.log');
    const logger = createLogger({ destination: file, level: 'warn' });
    logger.info({ requestId: 'r0' }, 'below the level');
    logger.warn({ requestId: 'r1' }, 'first');
    logger.error({ requestId: 'r2', apiKey: PLANTED }, 'second');
    await new Promise((resolve) => setImmediate(resolve));
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => [line['msg'], line['requestId']])).toEqual([
      ['first', 'r1'],
      ['second', 'r2'],
    ]);
    expect(lines[1]?.['apiKey']).toBe('[redacted]');
  });

  it('reopens a file destination at its path after log rotation moved the file away', async () => {
    const file = join(dir, 'rotated', 'gateway.log');
    const logger = createLogger({ destination: file });
    logger.info('before rotation');
    await new Promise((resolve) => setImmediate(resolve));
    renameSync(file, `${file}.1`);
    // what a SIGHUP handler does
    expect(reopenLogFile(logger)).toBe(true);
    logger.info('after rotation');
    await new Promise((resolve) => setImmediate(resolve));
    const messages = (path: string): unknown[] =>
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as Record<string, unknown>)['msg']);
    expect(messages(`${file}.1`)).toEqual(['before rotation']);
    expect(messages(file)).toEqual(['after rotation']);
  });

  it('reopens nothing of a stream without reopen()', () => {
    const out = capture();
    expect(reopenLogFile(createLogger({ destination: out.stream }))).toBe(false);
  });

  it('writes nothing at level silent', () => {
    const out = capture();
    createLogger({ destination: out.stream, level: 'silent' }).error({}, 'never');
    expect(out.text()).toBe('');
  });

  it('refuses pretty output to a stream', () => {
    expect(() => createLogger({ destination: capture().stream, pretty: true })).toThrow(
      expect.objectContaining({ code: 'invalid_options' }),
    );
  });

  it.skipIf(!prettyInstalled())('pretty-prints to a file through pino-pretty', async () => {
    const file = join(dir, 'pretty.log');
    const logger = createLogger({ destination: file, pretty: true });
    logger.info({ requestId: 'r9', authorization: 'Bearer x' }, 'request completed');
    // the transport worker writes on its own thread: wait for it to end
    const transport = (logger as unknown as Record<symbol, NodeJS.EventEmitter & { end(): void }>)[
      pino.symbols.streamSym
    ];
    await new Promise<void>((resolve) => {
      transport?.once('close', () => resolve());
      transport?.end();
    });
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('request completed');
    expect(text).toContain('requestId: "r9"');
    expect(text).not.toMatch(/^\{/);
  });
});
