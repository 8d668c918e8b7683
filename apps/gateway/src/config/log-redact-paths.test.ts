import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from './load-config';
import { MAX_REDACT_PATH_CHARS, MAX_REDACT_PATHS } from './log-redact-paths';

const PROVIDERS = 'providers: [ { name: mock, type: mock } ]\n';

async function problemsOf(yaml: string): Promise<string[]> {
  try {
    await validateConfig(parseYaml(`${yaml}\n${PROVIDERS}`), {}, 'test.yaml');
    return [];
  } catch (error) {
    return (error as { problems: string[] }).problems;
  }
}

describe('logging.redactPaths', () => {
  it('takes pino redact paths (there was no way to redact a key header of a name the gateway does not know)', async () => {
    const config = await validateConfig(
      parseYaml(
        `logging: { redactPaths: ['*.headers["x-meter-key"]', req.headers.x-tenant-token ] }\n${PROVIDERS}`,
      ),
      {},
      'test.yaml',
    );
    expect(config.logging?.redactPaths).toEqual(['*.headers["x-meter-key"]', 'req.headers.x-tenant-token']);
  });

  it('refuses a path pino would refuse, under its index, at validation rather than in each process at start', async () => {
    expect(await problemsOf("logging: { redactPaths: ['*.headers.x-ok', 'a..b', 'headers['] }")).toEqual([
      '/logging/redactPaths/1: "a..b" is not a pino redact path (such as *.headers["x-meter-key"] or req.headers.x-meter-key)',
      '/logging/redactPaths/2: "headers[" is not a pino redact path (such as *.headers["x-meter-key"] or req.headers.x-meter-key)',
    ]);
  });

  it('bounds the list and each path, each problem reported once', async () => {
    const many = Array.from({ length: MAX_REDACT_PATHS + 1 }, (_, i) => `h${i}`).join(', ');
    expect(await problemsOf(`logging: { redactPaths: [ ${many} ] }`)).toEqual([
      expect.stringMatching(/^\/logging\/redactPaths: .*32/),
    ]);
    const long = 'a'.repeat(MAX_REDACT_PATH_CHARS + 1);
    expect(await problemsOf(`logging: { redactPaths: [ ${long}, "" ] }`)).toEqual([
      expect.stringMatching(/^\/logging\/redactPaths\/0: .*200/),
      expect.stringMatching(/^\/logging\/redactPaths\/1: /),
    ]);
    expect(await problemsOf(`logging: { redactPaths: [ ${'a'.repeat(MAX_REDACT_PATH_CHARS)} ] }`)).toEqual(
      [],
    );
  });
});
