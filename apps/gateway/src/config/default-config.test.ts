import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error';
import { defaultConfig } from './default-config';

function refusalOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    defaultConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('defaultConfig accepted the environment');
}

describe('defaultConfig', () => {
  it('refuses an OPENAI_API_KEY no header may carry, by the variable, never quoting it', () => {
    // a CRLF .env file, a key pasted with typographic quotes, a control character
    for (const key of ['sk-env-key\r', '\u201csk-env-key\u201d', 'sk-env\u0007key']) {
      const refusal = refusalOf({ OPENAI_API_KEY: key });
      expect(refusal.source).toBe('the environment');
      expect(refusal.problems).toEqual([
        'OPENAI_API_KEY: holds a line break, another control character or a character above U+00FF (a .env file with CRLF line endings? quotes pasted with the key?)',
      ]);
      expect(refusal.message).not.toContain('sk-env');
    }
  });

  it('configures openai from a usable key, at OPENAI_BASE_URL when set', () => {
    expect(defaultConfig({ OPENAI_API_KEY: 'sk-env-key' }).providers).toEqual([
      { name: 'mock', type: 'mock' },
      { name: 'openai', type: 'openai', apiKey: 'sk-env-key' },
    ]);
    expect(
      defaultConfig({ OPENAI_API_KEY: 'sk-env-key', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }).providers[1],
    ).toEqual({ name: 'openai', type: 'openai', apiKey: 'sk-env-key', baseUrl: 'http://127.0.0.1:9/v1' });
  });

  it('refuses an OPENAI_BASE_URL that is not an http(s) URL by the variable, never quoting it (its user and password were printed)', () => {
    for (const [baseUrl, problem] of [
      [
        'ftp://user:pw-secret@host/v1',
        'OPENAI_BASE_URL: does not start with http:// or https:// (e.g. http://127.0.0.1:8000/v1)',
      ],
      ['http://user:pw-secret@host:99999/v1', 'OPENAI_BASE_URL: is not a URL'],
    ] as const) {
      const refusal = refusalOf({ OPENAI_API_KEY: 'sk-env-key', OPENAI_BASE_URL: baseUrl });
      expect(refusal.problems).toEqual([problem]);
      expect(refusal.message).not.toContain('pw-secret');
    }
  });
});
