import type { ConfigFile } from './config-schema';

/**
 * The configuration used when no file is given: the built-in mock provider, plus OpenAI
 * when `OPENAI_API_KEY` is set in the environment.
 */
export function defaultConfig(env: NodeJS.ProcessEnv): ConfigFile {
  const config: ConfigFile = {
    providers: [{ name: 'mock', type: 'mock' }],
    models: [{ name: 'mock', targets: [{ provider: 'mock', model: 'mock' }] }],
  };
  const key = env['OPENAI_API_KEY'];
  if (key !== undefined && key.length > 0) {
    config.providers.push({ name: 'openai', type: 'openai', apiKey: key, ...(env['OPENAI_BASE_URL'] ? { baseUrl: env['OPENAI_BASE_URL'] } : {}) });
    config.models?.push(
      { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
    );
  }
  return config;
}
