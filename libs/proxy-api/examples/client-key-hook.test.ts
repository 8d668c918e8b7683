import { describeReadmeExample } from '@switchyard/testing';
import { expect } from 'vitest';

describeReadmeExample({
  example: new URL('./client-key-hook.ts', import.meta.url),
  readme: new URL('../README.md', import.meta.url),
  expectOutput: (stdout) => expect(stdout).toBe("401\n{ results: [], key: 'key_static_dev' }\n"),
});
