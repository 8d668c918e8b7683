import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { START_USAGE } from './start-command';

const SRC = new URL('../', import.meta.url);
// the start path: what `switchyard start` reads (the admin commands' variables are in their own usage)
const START_FILES = ['start-gateway.ts', 'cli/start-command.ts', ...['config', 'cluster', 'telemetry', 'runtime'].flatMap((dir) => readdirSync(new URL(dir, SRC)).map((name) => `${dir}/${name}`))].filter(
  (name) => name.endsWith('.ts') && !name.endsWith('.test.ts'),
);
// `env['NAME']` or `envValue(env, 'NAME')`; NODE_ENV is read for its usual meaning, not a setting of the gateway's
const GENERIC = new Set(['NODE_ENV']);

function variablesReadAtStart(): string[] {
  const names = START_FILES.flatMap((name) => [...readFileSync(new URL(name, SRC), 'utf8').matchAll(/(?:env\['|envValue\(env, ')([A-Z][A-Z0-9_]*)'/g)].map((match) => match[1] ?? ''));
  return [...new Set(names)].filter((name) => !GENERIC.has(name)).sort();
}

describe('the environment of switchyard start', () => {
  it('is listed in full in START_USAGE and in docs/configuration.md', () => {
    const variables = variablesReadAtStart();
    expect(variables).toContain('SWITCHYARD_WORKERS');
    const doc = readFileSync(new URL('../../../docs/configuration.md', SRC), 'utf8');
    expect(variables.filter((name) => !new RegExp(`\\b${name}\\b`).test(START_USAGE))).toEqual([]);
    expect(variables.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });
});
