import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../options/logger';
import { anthropicProvider } from '../providers/anthropic';
import { azureOpenAIProvider } from '../providers/azure-openai';
import { bedrockProvider } from '../providers/bedrock';
import { cohereProvider } from '../providers/cohere';
import { geminiProvider } from '../providers/gemini';
import { mockProvider } from '../providers/mock';
import { ollamaProvider } from '../providers/ollama';
import { openAIProvider } from '../providers/openai';
import { upstreamServerOf } from './upstream-server';

describe('upstreamServerOf', () => {
  it('defaults the port from the scheme, as the HTTP client span convention asks', () => {
    expect(upstreamServerOf('https://api.openai.com/v1', 'p')).toEqual({
      address: 'api.openai.com',
      port: 443,
    });
    expect(upstreamServerOf('http://vllm.internal/v1', 'p')).toEqual({ address: 'vllm.internal', port: 80 });
  });

  it('keeps an explicit port, and gives IPv6 addresses without brackets', () => {
    expect(upstreamServerOf('http://127.0.0.1:11434', 'p')).toEqual({ address: '127.0.0.1', port: 11434 });
    expect(upstreamServerOf('https://[::1]:8443/v1', 'p')).toEqual({ address: '::1', port: 8443 });
    // a port equal to the scheme's default is dropped by URL parsing, and comes back as the default
    expect(upstreamServerOf('https://example.com:443', 'p')).toEqual({ address: 'example.com', port: 443 });
  });
});

describe('built-in adapters name the server they call', () => {
  const kit = { dispatcher: new Agent(), logger: silentLogger };
  afterAll(() => kit.dispatcher.close());

  it('from their default base URLs', () => {
    expect(openAIProvider.create({ name: 'a', type: 'openai' }, kit).server).toEqual({
      address: 'api.openai.com',
      port: 443,
    });
    expect(anthropicProvider.create({ name: 'b', type: 'anthropic' }, kit).server).toEqual({
      address: 'api.anthropic.com',
      port: 443,
    });
    expect(geminiProvider.create({ name: 'c', type: 'gemini', apiKey: 'k' }, kit).server).toEqual({
      address: 'generativelanguage.googleapis.com',
      port: 443,
    });
    expect(ollamaProvider.create({ name: 'd', type: 'ollama' }, kit).server).toEqual({
      address: '127.0.0.1',
      port: 11434,
    });
    expect(cohereProvider.create({ name: 'e', type: 'cohere', apiKey: 'k' }, kit).server?.port).toBe(443);
    expect(
      bedrockProvider.create({ name: 'f', type: 'bedrock', region: 'eu-west-1', apiKey: 'ABSK-key' }, kit)
        .server,
    ).toEqual({
      address: 'bedrock-runtime.eu-west-1.amazonaws.com',
      port: 443,
    });
  });

  it('from configured base URLs and endpoints', () => {
    expect(
      openAIProvider.create({ name: 'a', type: 'openai', baseUrl: 'http://10.0.0.7:8000/v1' }, kit).server,
    ).toEqual({ address: '10.0.0.7', port: 8000 });
    expect(
      azureOpenAIProvider.create(
        { name: 'b', type: 'azure-openai', endpoint: 'https://team.openai.azure.com/' },
        kit,
      ).server,
    ).toEqual({ address: 'team.openai.azure.com', port: 443 });
    expect(
      anthropicProvider.create({ name: 'c', type: 'anthropic', baseUrl: 'http://proxy.local:9000/v1' }, kit)
        .server,
    ).toEqual({ address: 'proxy.local', port: 9000 });
  });

  it('refuses a base URL that does not parse with invalid_options, without the URL (it may hold a password)', () => {
    const make = () =>
      openAIProvider.create({ name: 'broken', type: 'openai', baseUrl: 'https://user:hunter2@a b/v1' }, kit);
    expect(make).toThrow(expect.objectContaining({ code: 'invalid_options', provider: 'broken' }));
    expect(make).toThrow('Provider "broken" has a base URL that is not a valid URL.');
    expect(make).not.toThrow(/hunter2/);
  });

  it('except the in-process mock, which calls no host', () => {
    expect(mockProvider.create({ name: 'm', type: 'mock' }, kit).server).toBeUndefined();
  });
});
