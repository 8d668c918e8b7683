import { isValidHeaderValue } from '@switchyard/proxy-core';
import type { ConfigFile } from './config-schema';
import { ConfigError } from './config-error';
import { envValue } from './env-value';

/**
 * The configuration used when no file is given: the built-in mock provider, plus OpenAI
 * when `OPENAI_API_KEY` is set in the environment (at `OPENAI_BASE_URL` when that is set too).
 * A variable the provider could not use is a {@link ConfigError} from "the environment" under
 * the variable's name, not the provider option it became (`/providers/1/baseUrl`), and before
 * any worker starts; `warnings` gets `OPENAI_BASE_URL` set without `OPENAI_API_KEY`, which
 * configures nothing.
 */
export function defaultConfig(env: NodeJS.ProcessEnv, warnings: string[] = []): ConfigFile {
  const config: ConfigFile = {
    providers: [{ name: 'mock', type: 'mock' }],
    models: [{ name: 'mock', targets: [{ provider: 'mock', model: 'mock' }] }],
  };
  const key = envValue(env, 'OPENAI_API_KEY');
  const baseUrl = envValue(env, 'OPENAI_BASE_URL');
  if (key === undefined) {
    if (baseUrl !== undefined)
      warnings.push('OPENAI_BASE_URL is set but OPENAI_API_KEY is not: no openai provider is configured');
    return config;
  }
  const problems = [
    ...(isValidHeaderValue(key)
      ? []
      : [
          'OPENAI_API_KEY: holds a line break, another control character or a character above U+00FF (a .env file with CRLF line endings? quotes pasted with the key?)',
        ]),
    ...(baseUrl === undefined ? [] : baseUrlProblems(baseUrl)),
  ];
  if (problems.length > 0) throw new ConfigError('the environment', problems);
  config.providers.push({
    name: 'openai',
    type: 'openai',
    apiKey: key,
    ...(baseUrl === undefined ? {} : { baseUrl }),
  });
  config.models?.push(
    { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
    { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
  );
  return config;
}

// named, never quoted: a URL may carry a user and password (`https://user:pw@proxy/v1`)
function baseUrlProblems(baseUrl: string): string[] {
  // the openai provider's own check (`^https?://`), then one the URL parser agrees with
  if (!/^https?:\/\//.test(baseUrl))
    return ['OPENAI_BASE_URL: does not start with http:// or https:// (e.g. http://127.0.0.1:8000/v1)'];
  return URL.canParse(baseUrl) ? [] : ['OPENAI_BASE_URL: is not a URL'];
}
