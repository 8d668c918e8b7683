import { fileURLToPath } from 'node:url';
import { readmeEmbeds, runExample } from '@switchyard/testing';
import { describe, expect, it } from 'vitest';

const example = fileURLToPath(new URL('./quick-start.ts', import.meta.url));
const readme = fileURLToPath(new URL('../README.md', import.meta.url));

describe('README example', () => {
  it('is embedded verbatim in the README', () => {
    expect(readmeEmbeds(readme, example)).toBe(true);
  });

  it('runs', () => {
    const result = runExample(example);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('call 1: cache MISS');
    expect(result.stdout).toContain('call 2: cache HIT');
    expect(result.stdout).toMatch(/condensed: middle-out removed \d+ messages/);
    // a child process that loads two tokenizer encodings: slow on a loaded machine
  }, 90_000);
});
