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
 * Whether a URL's host matches a host pattern: `host`, `host:port`, `*.domain` or
 * `*.domain:port`. A scheme's default port counts as written: `api.example.com:443` matches
 * `https://api.example.com/`, whose URL leaves the port out.
 */
export function hostMatches(url: URL, pattern: string): boolean {
  const wanted = pattern.toLowerCase();
  const withPort = /^(.+):(\d+)$/.exec(wanted);
  const host = withPort?.[1] ?? wanted;
  const wantedPort = withPort?.[2];
  if (wantedPort !== undefined) {
    const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : url.port;
    if (port !== String(Number(wantedPort))) return false;
  }
  // `*.domain`: any subdomain, not the domain itself
  return host.startsWith('*.') ? url.hostname.endsWith(host.slice(1)) : url.hostname === host;
}
