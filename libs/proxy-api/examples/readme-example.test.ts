import { describeReadmeExample } from '@switchyard/testing';
import { expect } from 'vitest';

describeReadmeExample({
  example: new URL('./quick-start.ts', import.meta.url),
  readme: new URL('../README.md', import.meta.url),
  expectOutput: (stdout) => expect(stdout).toContain('You said: Hello!'),
});
