import { builtinMeterHosts } from '@switchyard/proxy-logging';
import { hostMatches } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { exactHostMatcher } from './exact-hosts';

describe('exactHostMatcher', () => {
  it('answers as hostMatches against each entry would, by one lookup', () => {
    const entries = [
      ...builtinMeterHosts().filter((pattern) => !pattern.includes('*')),
      'LLM.Internal',
      'trailing.example.',
      '10.0.0.5',
      '[::1]',
      '0:0:0:0:0:0:0:2',
      '::ffff:192.0.2.7',
    ];
    const matches = exactHostMatcher(entries);
    const hosts = [
      'api.openai.com',
      'API.OPENAI.COM',
      'api.openai.com.',
      'api.openai.com.evil.example',
      'openai.com',
      'llm.internal',
      'trailing.example',
      'trailing.example.',
      '10.0.0.5',
      '10.0.0.6',
      '[::1]',
      '::1',
      '[::2]',
      '[::ffff:c000:207]',
      '192.0.2.7',
      '[0:0:0:0:0:0:0:1]',
      '',
      'localhost',
    ];
    for (const host of hosts)
      expect({ host, matches: matches(host) }).toEqual({
        host,
        matches: entries.some((pattern) => hostMatches(pattern, host)),
      });
    expect(matches('api.openai.com')).toBe(true);
    expect(matches('[::1]')).toBe(true);
  });

  it('matches nothing without entries', () => {
    expect(exactHostMatcher([])('api.openai.com')).toBe(false);
  });
});
