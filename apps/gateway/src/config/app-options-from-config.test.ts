import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { appConfigProblems } from './app-options-from-config';
import { validateConfig } from './load-config';

const PROVIDERS = 'providers: [ { name: mock, type: mock } ]\n';

/** What `config validate` and `start` refuse a file for once it passed the schema: createApp's problems. */
async function appProblemsOf(yaml: string): Promise<string[]> {
  const config = await validateConfig(parseYaml(`${yaml}\n${PROVIDERS}`), {}, 'test.yaml');
  return appConfigProblems(config, {});
}

describe('appConfigProblems', () => {
  it('refuses a memory budget past Number.MAX_SAFE_INTEGER in the schema, saying so (the context plugins refused it as "maxBytes must be a positive integer")', async () => {
    // an integer to YAML, but past 2^53: not one the budget can count in
    await expect(appProblemsOf('memory: { budgetBytes: 9007199254740993 }')).rejects.toThrow(
      /\/memory\/budgetBytes: .*9007199254740991/,
    );
    await expect(appProblemsOf('memory: { budgetBytes: 9007199254740993 }')).rejects.not.toThrow(/maxBytes/);
    expect(await appProblemsOf('memory: { budgetBytes: 9007199254740991 }')).toEqual([]);
  });

  it('refuses requestLog.maxQueuedBodyChars under two full-size bodies when bodies are logged, under its field (createRequestLog threw at start)', async () => {
    expect(
      await appProblemsOf('requestLog: { path: ":memory:", bodies: true, maxQueuedBodyChars: 131071 }'),
    ).toEqual([
      '/requestLog/maxQueuedBodyChars: 131071 is below two bodies of maxBodyChars (131072): a row with both bodies at that limit would always be dropped',
    ]);
    expect(
      await appProblemsOf('requestLog: { path: ":memory:", bodies: true, maxQueuedBodyChars: 131072 }'),
    ).toEqual([]);
    // without bodies the bound holds nothing back: any positive integer is taken
    expect(await appProblemsOf('requestLog: { path: ":memory:", maxQueuedBodyChars: 1 }')).toEqual([]);
  });
});
