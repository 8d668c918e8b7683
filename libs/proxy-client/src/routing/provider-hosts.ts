/**
 * The provider API hosts routed through the gateway by default: the hosts the official
 * SDKs of these providers call. `*.` matches any subdomain.
 */
export const DEFAULT_PROVIDER_HOSTS: readonly string[] = Object.freeze([
  'api.openai.com',
  'api.anthropic.com',
  'generativelanguage.googleapis.com',
  'api.mistral.ai',
  'api.groq.com',
  'api.cohere.com',
  'api.cohere.ai',
  'api.together.xyz',
  'api.together.ai',
  'api.deepseek.com',
  'openrouter.ai',
  'api.fireworks.ai',
  'api.x.ai',
  'api.perplexity.ai',
  'api.elevenlabs.io',
  'api.deepgram.com',
  'api.voyageai.com',
  'api.replicate.com',
  '*.openai.azure.com',
]);

/** Whether a URL's host matches a host pattern: `host`, `host:port` or `*.domain`. */
export function hostMatches(url: URL, pattern: string): boolean {
  const wanted = pattern.toLowerCase();
  if (wanted.startsWith('*.')) return url.hostname.endsWith(wanted.slice(1));
  return wanted.includes(':') ? url.host === wanted : url.hostname === wanted;
}
