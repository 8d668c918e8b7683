import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appOptionsProblems } from './check-app-options';
import { createApp } from './create-app';

const gateway = { providers: [{ name: 'mock', type: 'mock' as const }] };
const dir = mkdtempSync(join(tmpdir(), 'switchyard-check-app-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('appOptionsProblems', () => {
  it('lists every problem createApp and its routes would refuse, without opening the stores', () => {
    const keys = join(dir, 'keys.db');
    const log = join(dir, 'log.db');
    const problems = appOptionsProblems({
      gateway,
      keyStore: { url: `sqlite:${keys}` },
      requestLog: { store: 'postgres', path: log },
      context: { catalog: { models: { 'my-llama': { contextWindow: 8192 } } } },
      proxy: { providerKeys: { pinecone: { value: 'pcsk-secret' } } },
    });
    expect(problems).toEqual([
      expect.stringMatching(/^\/keySecret: a persistent key store needs a keySecret/),
      'requestLog/url: store "postgres" needs a url',
      'catalog/models/my-llama: a model the catalog does not know needs contextWindow and maxOutputTokens',
      expect.stringMatching(/^proxy\/providerKeys\/pinecone: no default hosts/),
    ]);
    expect(existsSync(keys) || existsSync(log)).toBe(false);
  });

  it('names a request log URL openDatabase cannot open without echoing it', () => {
    const problems = appOptionsProblems({
      gateway,
      requestLog: { store: 'postgres', url: 'mysql://user:hunter2@db/x' },
    });
    expect(problems).toEqual([
      'requestLog/url: Unsupported database URL: use sqlite:<path>, sqlite::memory: or postgres://...',
    ]);
    expect(
      appOptionsProblems({ gateway, requestLog: { store: 'postgres', url: 'postgres://db/x' } }),
    ).toEqual([]);
  });

  it('names a body limit Fastify would refuse by its own option name, and a provider key no header may carry without quoting it', () => {
    expect(
      appOptionsProblems({
        gateway,
        bodyLimitBytes: 0,
        proxy: { providerKeys: { openai: { value: 'Bearer sk-proj-secret\n' } } },
      }),
    ).toEqual([
      '/bodyLimitBytes: Expected integer to be greater or equal to 1',
      'proxy/providerKeys/openai/value: holds a line break, another control character or a character above U+00FF, which no header value may',
    ]);
    expect(appOptionsProblems({ gateway, bodyLimitBytes: 1.5 })).toEqual([
      '/bodyLimitBytes: Expected integer',
    ]);
  });

  it('has nothing to say about valid options, a memory key store, the proxy or pricing turned off', () => {
    expect(appOptionsProblems({ gateway })).toEqual([]);
    expect(appOptionsProblems({ gateway, keyStore: 'memory', proxy: false, pricing: false })).toEqual([]);
  });
});

describe('createApp', () => {
  it('refuses a postgres request log without a url at once, with every other problem (it was refused only once the app was ready, after the proxy key problem went unseen)', () => {
    const log = join(dir, 'never-opened.db');
    const create = (): unknown =>
      createApp({
        gateway,
        requestLog: { store: 'postgres', path: log },
        proxy: { providerKeys: { pinecone: { value: 'pcsk-secret' } } },
      });
    expect(create).toThrow(
      /^Invalid Switchyard options:\n- requestLog\/url: store "postgres" needs a url\n- proxy\/providerKeys\/pinecone: no default hosts/,
    );
    expect(existsSync(log)).toBe(false);
  });

  it('refuses the server options Fastify and Node would refuse under their own names, with the rest, before anything opens', () => {
    const log = join(dir, 'server-options.db');
    const create = (): unknown =>
      createApp({
        gateway,
        requestLog: { store: 'sqlite', path: log },
        bodyLimitBytes: -1,
        maxHeaderBytes: 0,
        // a JavaScript caller's string, which Fastify would read as a list of proxy addresses
        trustProxy: 'yes' as unknown as boolean,
        keepAliveTimeoutMs: -5,
      });
    expect(create).toThrow(
      expect.objectContaining({
        code: 'invalid_options',
        message: [
          'Invalid Switchyard options:',
          '- /keepAliveTimeoutMs: Expected integer to be greater or equal to 0',
          '- /maxHeaderBytes: Expected integer to be greater or equal to 1',
          '- /trustProxy: Expected boolean',
          '- /bodyLimitBytes: Expected integer to be greater or equal to 1',
        ].join('\n'),
      }),
    );
    expect(existsSync(log)).toBe(false);
  });
});
