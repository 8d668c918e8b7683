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

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/**
 * Whether a URL's host matches a host pattern: `host`, `host:port` or `*.domain`. A scheme's
 * default port counts as written: `api.example.com:443` matches `https://api.example.com/`,
 * whose URL leaves the port out.
 */
export function hostMatches(url: URL, pattern: string): boolean {
  const wanted = pattern.toLowerCase();
  if (wanted.startsWith('*.')) return url.hostname.endsWith(wanted.slice(1));
  const withPort = /^(.+):(\d+)$/.exec(wanted);
  if (withPort === null) return url.hostname === wanted;
  const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : url.port;
  return url.hostname === withPort[1] && port === String(Number(withPort[2]));
}
