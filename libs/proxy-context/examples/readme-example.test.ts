import { describeReadmeExample } from '@switchyard/testing';
import { expect } from 'vitest';

describeReadmeExample({
  example: new URL('./quick-start.ts', import.meta.url),
  readme: new URL('../README.md', import.meta.url),
  expectOutput: (stdout) => {
    expect(stdout).toContain('call 1: cache MISS');
    expect(stdout).toContain('call 2: cache HIT');
    expect(stdout).toMatch(/condensed: middle-out removed \d+ messages/);
  },
  // a child process that loads two tokenizer encodings: slow on a loaded machine
  timeoutMs: 90_000,
});
