import { captureLogLines as capture } from '@switchyard/testing';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BUILTIN_METERS } from '../usage/meter-registry';
import { createLogger } from './create-logger';
import { censorSecrets, redactLogger } from './log-redaction';

const PLANTED = 'sk-planted-0123456789abcdef';

const BEARER = ['authorization'];
const AWS = ['authorization', 'x-amz-security-token'];
/**
 * The headers each provider the universal proxy meters takes its key in, from its API reference:
 * a meter added without its entry here fails the test below.
 */
const PROVIDER_AUTH_HEADERS: Readonly<Record<string, readonly string[]>> = {
  ai21: BEARER,
  algolia: ['x-algolia-api-key'],
  anthropic: ['x-api-key', 'authorization'],
  assemblyai: BEARER,
  'aws-polly': AWS,
  'aws-rekognition': AWS,
  'aws-transcribe': AWS,
  'azure-openai': ['api-key', 'ocp-apim-subscription-key', 'authorization'],
  'azure-speech': ['ocp-apim-subscription-key', 'authorization'],
  bedrock: AWS,
  chroma: ['x-chroma-token', 'authorization'],
  cohere: BEARER,
  deepgram: BEARER,
  deepseek: BEARER,
  elasticsearch: BEARER,
  elevenlabs: ['xi-api-key'],
  fireworks: BEARER,
  gemini: ['x-goog-api-key', 'authorization'],
  graphql: BEARER,
  groq: BEARER,
  huggingface: BEARER,
  milvus: BEARER,
  mistral: BEARER,
  'mongodb-atlas': ['apiKey', 'api-key', 'jwtTokenString', 'password', 'authorization'],
  openai: BEARER,
  openrouter: BEARER,
  paypal: BEARER,
  perplexity: BEARER,
  pinecone: ['api-key'],
  playht: BEARER,
  qdrant: ['api-key', 'authorization'],
  redis: BEARER,
  replicate: BEARER,
  runway: BEARER,
  sendgrid: BEARER,
  stability: BEARER,
  stripe: BEARER,
  together: BEARER,
  twilio: BEARER,
  vertex: ['authorization', 'x-goog-api-key'],
  voyage: BEARER,
  weaviate: [
    'authorization',
    'x-openai-api-key',
    'x-azure-api-key',
    'x-anthropic-api-key',
    'x-anyscale-api-key',
    'x-cohere-api-key',
    'x-huggingface-api-key',
    'x-jinaai-api-key',
    'x-mistral-api-key',
    'x-nvidia-api-key',
    'x-voyage-api-key',
    'x-voyageai-api-key',
    'x-xai-api-key',
    'x-goog-studio-api-key',
    'x-goog-vertex-api-key',
    'x-palm-api-key',
    'x-databricks-token',
    'x-friendli-api-key',
    'x-friendli-token',
    'x-aws-access-key',
    'x-aws-secret-key',
    'x-weaviate-api-key',
  ],
  xai: BEARER,
};

describe('censorSecrets', () => {
  it('returns the same object when it holds no secret, and never modifies what it is given', () => {
    const clean = { requestId: 'r1', headers: { accept: 'application/json' }, list: [{ name: 'a' }] };
    expect(censorSecrets(clean)).toBe(clean);
    const dirty = {
      requestId: 'r1',
      headers: { authorization: `Bearer ${PLANTED}`, accept: 'application/json' },
      list: [{ name: 'a' }],
    };
    const censored = censorSecrets(dirty);
    expect(censored).toEqual({
      requestId: 'r1',
      headers: { authorization: '[redacted]', accept: 'application/json' },
      list: [{ name: 'a' }],
    });
    expect(dirty.headers.authorization).toBe(`Bearer ${PLANTED}`);
    // untouched branches are shared, not copied
    expect(censored.list).toBe(dirty.list);
  });

  it('matches secret names in any case and deeper than a path list reaches', () => {
    const value = {
      a: {
        b: { c: { d: { e: { Authorization: PLANTED, 'X-Api-Key': PLANTED, APIKEY: PLANTED, keep: 1 } } } },
      },
    };
    expect(JSON.stringify(censorSecrets(value))).not.toContain(PLANTED);
    expect(censorSecrets(value).a.b.c.d.e.keep).toBe(1);
  });

  it('redacts the entries of client keys and of the proxy provider keys, not other fields of those names', () => {
    const value = {
      keys: [{ name: 'team', key: PLANTED }],
      proxy: { providerKeys: { openai: { header: 'authorization', value: PLANTED } } },
      cache: { key: 'abc', value: 'kept' },
    };
    expect(censorSecrets(value)).toEqual({
      keys: [{ name: 'team', key: '[redacted]' }],
      proxy: { providerKeys: { openai: { header: 'authorization', value: '[redacted]' } } },
      cache: { key: 'abc', value: 'kept' },
    });
  });

  it('turns an error holding a secret into the plain record JSON would have written, and leaves clean errors alone', () => {
    const error = Object.assign(new Error('denied'), {
      status: 401,
      request: { headers: { 'x-goog-api-key': PLANTED } },
    });
    const censored = censorSecrets({ attempt: { error } });
    expect(JSON.parse(JSON.stringify(censored))).toEqual({
      attempt: { error: { status: 401, request: { headers: { 'x-goog-api-key': '[redacted]' } } } },
    });
    const clean = new Error('fine');
    expect(censorSecrets({ clean }).clean).toBe(clean);
  });

  it('walks class instances as JSON would (own fields), leaves toJSON objects and byte arrays alone, and stops on cycles', () => {
    class Config {
      provider = 'openai';
      apiKey = PLANTED;
    }
    expect(JSON.parse(JSON.stringify(censorSecrets({ config: new Config() })))).toEqual({
      config: { provider: 'openai', apiKey: '[redacted]' },
    });
    const buffer = Buffer.from('apiKey');
    const date = new Date(0);
    const bytes = Uint8Array.of(1, 2);
    expect(censorSecrets({ buffer, date, bytes })).toEqual({ buffer, date, bytes });
    const cyclic: Record<string, unknown> = { name: 'loop', password: PLANTED };
    cyclic['self'] = cyclic;
    const censored = censorSecrets(cyclic);
    expect(censored['password']).toBe('[redacted]');
  });
});

describe('redactLogger', () => {
  it('names the auth headers of every provider the universal proxy meters', () => {
    const metered = [...BUILTIN_METERS.map((meter) => meter.name), 'graphql'].sort();
    expect(Object.keys(PROVIDER_AUTH_HEADERS).sort()).toEqual(metered);
  });

  it.each(Object.entries(PROVIDER_AUTH_HEADERS))(
    "redacts %s's auth headers in any letter case, in a request's and an upstream error's headers",
    (_provider, names) => {
      const out = capture();
      const logger = createLogger({ destination: out.stream });
      for (const name of names) {
        const cased = name.replace(
          /(^|-)([a-z])/g,
          (_, dash: string, letter: string) => dash + letter.toUpperCase(),
        );
        logger.info({ req: { headers: { [name]: PLANTED, accept: '*/*' } } }, 'in');
        logger.error(
          { err: Object.assign(new Error('denied'), { request: { headers: { [cased]: PLANTED } } }) },
          'failed',
        );
      }
      expect(out.text()).not.toContain(PLANTED);
      expect(out.lines()[0]).toMatchObject({ req: { headers: { accept: '*/*' } } });
    },
  );

  it('redacts bindings of children at any depth, and serialized errors', () => {
    const out = capture();
    const logger = redactLogger(pino({}, out.stream))
      .child({ tenant: 't1', apiKey: PLANTED, headers: { 'x-api-key': PLANTED, accept: '*/*' } })
      .child({ provider: { name: 'bedrock', secretAccessKey: PLANTED } });
    const cause = Object.assign(new Error('root'), { headers: { 'api-key': PLANTED } });
    logger.error(
      { err: Object.assign(new Error('outer', { cause }), { secretAccessKey: PLANTED }) },
      'failed',
    );
    expect(out.text()).not.toContain(PLANTED);
    const [line] = out.lines();
    expect(line).toMatchObject({
      tenant: 't1',
      apiKey: '[redacted]',
      headers: { 'x-api-key': '[redacted]', accept: '*/*' },
      provider: { name: 'bedrock', secretAccessKey: '[redacted]' },
      err: { message: 'outer: root', type: 'Error', secretAccessKey: '[redacted]' },
    });
    expect(String((line?.['err'] as { stack: string }).stack)).toContain('outer');
  });

  it('redacts what serializers of your own return, on the logger and on children made with their own serializers', () => {
    const out = capture();
    const logger = redactLogger(
      pino(
        { serializers: { req: (req: { headers: Record<string, string> }) => ({ headers: req.headers }) } },
        out.stream,
      ),
    );
    logger.info({ req: { headers: { authorization: `Bearer ${PLANTED}` } } }, 'own serializer');
    logger
      .child({}, { serializers: { err: (error: Error) => ({ name: error.name, password: PLANTED }) } })
      .error({ err: new Error('x') }, 'child serializer');
    expect(out.text()).not.toContain(PLANTED);
    expect(out.lines()).toMatchObject([
      { req: { headers: { authorization: '[redacted]' } } },
      { err: { name: 'Error', password: '[redacted]' } },
    ]);
  });

  it('runs a log formatter of your own first, and redacts objects interpolated into the message', () => {
    const out = capture();
    const logger = redactLogger(
      pino(
        { formatters: { log: (object: Record<string, unknown>) => ({ ...object, shaped: true }) } },
        out.stream,
      ),
    );
    logger.info({ sessionToken: PLANTED, Password: PLANTED }, 'config %j', { masterKey: PLANTED });
    expect(out.text()).not.toContain(PLANTED);
    expect(out.lines()[0]).toMatchObject({
      shaped: true,
      sessionToken: '[redacted]',
      Password: '[redacted]',
      msg: 'config {"masterKey":"[redacted]"}',
    });
  });

  it('keeps the built-in redaction under extra redact paths, wildcards included', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, redactPaths: ['tenant.token', '*.pin'] });
    logger.child({ apiKey: PLANTED }).info(
      {
        tenant: { token: PLANTED, headers: { authorization: PLANTED } },
        card: { pin: '1234', password: PLANTED },
        err: Object.assign(new Error('e'), { apiKey: PLANTED }),
      },
      'extra',
    );
    expect(out.text()).not.toContain(PLANTED);
    expect(out.lines()[0]).toMatchObject({
      apiKey: '[redacted]',
      tenant: { token: '[redacted]', headers: { authorization: '[redacted]' } },
      card: { pin: '[redacted]', password: '[redacted]' },
      err: { message: 'e', apiKey: '[redacted]' },
    });
  });

  it('redacts a secret field on every line, not only the first time its name is seen', () => {
    const out = capture();
    const logger = redactLogger(pino(out.stream));
    for (let line = 0; line < 3; line++)
      logger.info({ requestId: `r${line}`, ApiKey: PLANTED, costUsd: line }, 'done');
    expect(out.text()).not.toContain(PLANTED);
    expect(out.lines().map((line) => line['ApiKey'])).toEqual(['[redacted]', '[redacted]', '[redacted]']);
  });

  it('cleans a key container or a redact path on later lines after earlier lines held nothing secret there', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, redactPaths: ['tenant.token'] });
    logger.info({ keys: [], tenant: { token: 'none' }, model: 'm' }, 'first');
    logger.info({ keys: [{ name: 'team', key: PLANTED }], tenant: { token: PLANTED }, model: 'm' }, 'second');
    expect(out.text()).not.toContain(PLANTED);
    expect(out.lines()[1]).toMatchObject({
      keys: [{ name: 'team', key: '[redacted]' }],
      tenant: { token: '[redacted]' },
      model: 'm',
    });
  });

  it("redacts secret query parameters of a logged request's url (Gemini's ?key=), on every line and in any case", () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    const child = logger.child({ reqId: 'r1' });
    // what Fastify logs of a request to a route that is not the gateway's own (a 404, the admin API)
    child.info(
      { req: { method: 'POST', url: `/v1beta/models/m:generateContent?key=${PLANTED}&alt=sse` } },
      'in',
    );
    child.info({ url: `/admin/keys?limit=5&API_KEY=${PLANTED}` }, 'top level, a second time');
    child.info({ url: `/metrics?Token=${PLANTED}#x` }, 'top level');
    child.info({ err: { request: { url: `https://h/x?x-amz-signature=${PLANTED}&k=1` } } }, 'deep');
    child.info({ req: { url: '/v1/models?limit=5' }, cache: { key: 'abc' } }, 'clean');
    expect(out.text()).not.toContain(PLANTED);
    expect(out.lines().map((line) => JSON.stringify(line['req'] ?? line['url'] ?? line['err']))).toEqual([
      JSON.stringify({ method: 'POST', url: '/v1beta/models/m:generateContent?key=[redacted]&alt=sse' }),
      JSON.stringify('/admin/keys?limit=5&API_KEY=[redacted]'),
      JSON.stringify('/metrics?Token=[redacted]#x'),
      JSON.stringify({ request: { url: 'https://h/x?x-amz-signature=[redacted]&k=1' } }),
      JSON.stringify({ url: '/v1/models?limit=5' }),
    ]);
  });

  it('refuses what is not a pino logger', () => {
    expect(() => redactLogger({ info: () => undefined })).toThrow(
      expect.objectContaining({ code: 'invalid_options' }),
    );
  });
});
