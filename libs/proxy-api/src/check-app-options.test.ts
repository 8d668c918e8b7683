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
      expect.stringMatching(/^proxy\.providerKeys\.pinecone: no default hosts/),
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
      /^Invalid Switchyard options:\n- requestLog\/url: store "postgres" needs a url\n- proxy\.providerKeys\.pinecone: no default hosts/,
    );
    expect(existsSync(log)).toBe(false);
  });
});
