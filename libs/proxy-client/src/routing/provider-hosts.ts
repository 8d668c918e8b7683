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
  // Azure OpenAI: classic resources, AI Foundry (AI Services) resources, and Foundry projects
  '*.openai.azure.com',
  '*.cognitiveservices.azure.com',
  '*.services.ai.azure.com',
]);

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

function withoutRootDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/**
 * Whether a URL's host matches a host pattern: `host`, `host:port`, `*.domain` or
 * `*.domain:port`, with or without a fully qualified name's trailing dot on either side. A scheme's default port counts as written: `api.example.com:443` matches
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
  // a fully qualified name's trailing dot names the same host (`api.openai.com.` reaches OpenAI)
  const hostname = withoutRootDot(url.hostname);
  const wantedHost = withoutRootDot(host);
  // `*.domain`: any subdomain, not the domain itself
  return wantedHost.startsWith('*.') ? hostname.endsWith(wantedHost.slice(1)) : hostname === wantedHost;
}
