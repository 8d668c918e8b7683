import { pino, type DestinationStream } from 'pino';
import { describe, expect, it } from 'vitest';
import { censorSecrets, logRedaction } from './log-redaction';

const PLANTED = 'sk-planted-0123456789abcdef';

function capture(): { stream: DestinationStream; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: { write: (chunk: string) => void chunks.push(chunk) },
    lines: () => chunks.join('').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => chunks.join(''),
  };
}

describe('censorSecrets', () => {
  it('returns the same object when it holds no secret, and never modifies what it is given', () => {
    const clean = { requestId: 'r1', headers: { accept: 'application/json' }, list: [{ name: 'a' }] };
    expect(censorSecrets(clean)).toBe(clean);
    const dirty = { requestId: 'r1', headers: { authorization: `Bearer ${PLANTED}`, accept: 'application/json' }, list: [{ name: 'a' }] };
    const censored = censorSecrets(dirty);
    expect(censored).toEqual({ requestId: 'r1', headers: { authorization: '[redacted]', accept: 'application/json' }, list: [{ name: 'a' }] });
    expect(dirty.headers.authorization).toBe(`Bearer ${PLANTED}`);
    // untouched branches are shared, not copied
    expect(censored.list).toBe(dirty.list);
  });

  it('matches secret names in any case and deeper than a path list reaches', () => {
    const value = { a: { b: { c: { d: { e: { Authorization: PLANTED, 'X-Api-Key': PLANTED, APIKEY: PLANTED, keep: 1 } } } } } };
    expect(JSON.stringify(censorSecrets(value))).not.toContain(PLANTED);
    expect(censorSecrets(value).a.b.c.d.e.keep).toBe(1);
  });

  it('redacts the entries of client keys and of the proxy provider keys, not other fields of those names', () => {
    const value = { keys: [{ name: 'team', key: PLANTED }], proxy: { providerKeys: { openai: { header: 'authorization', value: PLANTED } } }, cache: { key: 'abc', value: 'kept' } };
    expect(censorSecrets(value)).toEqual({
      keys: [{ name: 'team', key: '[redacted]' }],
      proxy: { providerKeys: { openai: { header: 'authorization', value: '[redacted]' } } },
      cache: { key: 'abc', value: 'kept' },
    });
  });

  it('turns an error holding a secret into the plain record JSON would have written, and leaves clean errors alone', () => {
    const error = Object.assign(new Error('denied'), { status: 401, request: { headers: { 'x-goog-api-key': PLANTED } } });
    const censored = censorSecrets({ attempt: { error } });
    expect(JSON.parse(JSON.stringify(censored))).toEqual({ attempt: { error: { status: 401, request: { headers: { 'x-goog-api-key': '[redacted]' } } } } });
    const clean = new Error('fine');
    expect(censorSecrets({ clean }).clean).toBe(clean);
  });

  it('does not walk class instances, and stops on cycles', () => {
    const buffer = Buffer.from('apiKey');
    const date = new Date(0);
    expect(censorSecrets({ buffer, date })).toEqual({ buffer, date });
    const cyclic: Record<string, unknown> = { name: 'loop', password: PLANTED };
    cyclic['self'] = cyclic;
    const censored = censorSecrets(cyclic);
    expect(censored['password']).toBe('[redacted]');
  });
});

describe('logRedaction', () => {
  it('redacts child-logger bindings and the fields of serialized errors', () => {
    const out = capture();
    const logger = pino({ ...logRedaction() }, out.stream).child({ tenant: 't1', apiKey: PLANTED, headers: { 'x-api-key': PLANTED, accept: '*/*' } });
    const cause = Object.assign(new Error('root'), { headers: { 'api-key': PLANTED } });
    logger.error({ err: Object.assign(new Error('outer', { cause }), { secretAccessKey: PLANTED }) }, 'failed');
    expect(out.text()).not.toContain(PLANTED);
    const [line] = out.lines();
    expect(line).toMatchObject({ tenant: 't1', apiKey: '[redacted]', headers: { 'x-api-key': '[redacted]', accept: '*/*' }, err: { message: 'outer: root', type: 'Error', secretAccessKey: '[redacted]' } });
    expect(String((line?.['err'] as { stack: string }).stack)).toContain('outer');
  });

  it('runs formatters and an error serializer of your own first', () => {
    const out = capture();
    const logger = pino(
      {
        ...logRedaction({
          formatters: { log: (object) => ({ ...object, shaped: true }) },
          serializers: { err: (error: Error) => ({ name: error.name, password: PLANTED }) },
        }),
      },
      out.stream,
    );
    logger.info({ sessionToken: PLANTED, err: new Error('x') }, 'own');
    expect(out.text()).not.toContain(PLANTED);
    expect(out.lines()[0]).toMatchObject({ shaped: true, sessionToken: '[redacted]', err: { name: 'Error', password: '[redacted]' } });
  });
});
