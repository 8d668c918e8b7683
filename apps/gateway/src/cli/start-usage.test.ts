import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { START_USAGE } from './start-usage';

const SRC = new URL('../', import.meta.url);
// the start path: what `switchyard start` reads (the admin commands' variables are in their own usage)
const START_FILES = [
  'start-gateway.ts',
  'cli/start-command.ts',
  ...['config', 'cluster', 'telemetry', 'runtime'].flatMap((dir) =>
    readdirSync(new URL(dir, SRC)).map((name) => `${dir}/${name}`),
  ),
].filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));

function variablesReadAtStart(): string[] {
  const names = START_FILES.flatMap((name) =>
    [
      ...readFileSync(new URL(name, SRC), 'utf8').matchAll(/(?:env\['|envValue\(env, ')([A-Z][A-Z0-9_]*)'/g),
    ].map((match) => match[1] ?? ''),
  );
  return [...new Set(names)].sort();
}

describe('the environment of switchyard start', () => {
  it('is listed in full in START_USAGE and in docs/configuration.md', () => {
    const variables = variablesReadAtStart();
    expect(variables).toContain('SWITCHYARD_WORKERS');
    // read for the log format (start-gateway.ts), and it was left out of both lists
    expect(variables).toContain('NODE_ENV');
    const doc = readFileSync(new URL('../../../docs/configuration.md', SRC), 'utf8');
    expect(variables.filter((name) => !new RegExp(`\\b${name}\\b`).test(START_USAGE))).toEqual([]);
    expect(variables.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });
});
