import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// STYLE.md: one provider = one folder with the same files everywhere. `mock` is the
// in-process test double (no wire format), so it has no fixtures or translation files.
const PROVIDERS_DIR = fileURLToPath(new URL('../src/providers/', import.meta.url));
const NOT_WIRE_PROVIDERS = new Set(['mock']);

const folders = readdirSync(PROVIDERS_DIR).filter(
  (entry) => statSync(`${PROVIDERS_DIR}${entry}`).isDirectory() && !NOT_WIRE_PROVIDERS.has(entry),
);

function requiredFiles(name: string): string[] {
  return [
    'index.ts',
    `${name}-adapter.ts`,
    `${name}-wire.ts`,
    `to-${name}-request.ts`,
    `from-${name}-response.ts`,
    `from-${name}-stream.ts`,
    `${name}-error.ts`,
    `${name}-adapter.test.ts`,
    '__fixtures__',
  ];
}

describe('provider folder layout', () => {
  it('finds the provider folders', () => {
    expect(folders).toEqual(expect.arrayContaining(['openai', 'gemini', 'ollama', 'cohere']));
  });

  it.each(folders)('%s has every STYLE.md file and documented fixtures (JSON and .chunks.txt)', (name) => {
    const dir = `${PROVIDERS_DIR}${name}/`;
    const missing = requiredFiles(name).filter((file) => !existsSync(`${dir}${file}`));
    expect(missing).toEqual([]);
    const fixtures = readdirSync(`${dir}__fixtures__`);
    expect(fixtures.some((file) => file.endsWith('.json'))).toBe(true);
    expect(fixtures.some((file) => file.endsWith('.chunks.txt'))).toBe(true);
  });
});
