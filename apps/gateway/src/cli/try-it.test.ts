import { describe, expect, it } from 'vitest';
import { tryItLines } from './try-it';

describe('tryItLines', () => {
  it('prints a curl without a key for an open gateway, at an address that answers', () => {
    const lines = tryItLines('http://0.0.0.0:8080', 'mock', true);
    expect(lines).toBe(
      `Try it:\n  curl http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' \\\n    -d '{"model":"mock","messages":[{"role":"user","content":"Hello!"}]}'`,
    );
  });

  it('sends $SWITCHYARD_API_KEY (never a key itself) when the gateway has keys, and says where a key comes from', () => {
    const lines = tryItLines('http://127.0.0.1:8080', 'fast', false);
    expect(lines).toContain(`-H "authorization: Bearer $SWITCHYARD_API_KEY"`);
    expect(lines).toContain('switchyard keys create');
    expect(lines.split('\n')[1]).toBe(
      `  curl http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' \\`,
    );
  });
});
