import { describe, expect, it } from 'vitest';
import { redactPii } from './redact-pii';

describe('redactPii', () => {
  it('redacts emails, phone numbers, card numbers and API-key shapes', () => {
    const text = 'jane.doe@example.com +1 (415) 555-2671 4111 1111 1111 1111 sk-ant-api03-abcdefghijklmnopqrstu Bearer abcdefghijklmnop';
    const out = redactPii(text);
    for (const secret of ['jane.doe@example.com', '555-2671', '4111 1111', 'sk-ant-api03', 'abcdefghijklmnop']) expect(out).not.toContain(secret);
  });

  it('takes extra patterns', () => {
    expect(redactPii('order ORD-12345', [{ name: 'order', pattern: /ORD-\d+/g, replacement: '[ORDER]' }])).toBe('order [ORDER]');
  });
});
