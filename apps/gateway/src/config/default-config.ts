import type { ConfigFile } from './config-schema';
import { envValue } from './env-value';

/**
 * The configuration used when no file is given: the built-in mock provider, plus OpenAI
 * when `OPENAI_API_KEY` is set in the environment.
 */
export function defaultConfig(env: NodeJS.ProcessEnv): ConfigFile {
  const config: ConfigFile = {
    providers: [{ name: 'mock', type: 'mock' }],
    models: [{ name: 'mock', targets: [{ provider: 'mock', model: 'mock' }] }],
  };
  const key = envValue(env, 'OPENAI_API_KEY');
  const baseUrl = envValue(env, 'OPENAI_BASE_URL');
  if (key !== undefined) {
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
  }
  return config;
}
