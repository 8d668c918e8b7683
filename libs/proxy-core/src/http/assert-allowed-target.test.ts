import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertAllowedTarget, type TargetPolicy } from './assert-allowed-target';
import { createGuardedAgent } from './guarded-agent';
import { classifyAddress } from './ip-address-class';

// A loopback canary: every refusal below must happen before any connection reaches it.
let canary: Server;
let port: number;
let connections = 0;
let requests = 0;

beforeAll(async () => {
  canary = createServer((_req, res) => {
    requests += 1;
    res.writeHead(302, { location: `http://127.0.0.1:${port}/redirected` });
    res.end();
  });
  canary.on('connection', () => (connections += 1));
  canary.listen(0, '127.0.0.1');
  await once(canary, 'listening');
  port = (canary.address() as AddressInfo).port;
});
afterAll(async () => new Promise<void>((resolve) => canary.close(() => resolve())));

const anyHost: TargetPolicy = { allowHosts: ['*'] };

function refusedCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('assertAllowedTarget', () => {
  it.each([
    ['decimal IPv4', () => `http://2130706433:${port}/`],
    ['octal IPv4', () => `http://0177.0.0.1:${port}/`],
    ['hex IPv4', () => `http://0x7f000001:${port}/`],
    ['hex dotted IPv4', () => `http://0x7f.0x0.0x0.0x1:${port}/`],
    ['short IPv4', () => `http://127.1:${port}/`],
    ['IPv6 loopback', () => `http://[::1]:${port}/`],
    ['IPv6-mapped IPv4', () => `http://[::ffff:127.0.0.1]:${port}/`],
    ['IPv6-mapped hex', () => `http://[::ffff:7f00:1]:${port}/`],
    ['NAT64-embedded IPv4', () => `http://[64:ff9b::7f00:1]:${port}/`],
    ['SIIT IPv4-translated', () => `http://[::ffff:0:7f00:1]:${port}/`],
    ['local-use NAT64-embedded IPv4', () => `http://[64:ff9b:1::7f00:1]:${port}/`],
    ['unspecified', () => `http://0.0.0.0:${port}/`],
    ['private 10/8', () => 'http://10.0.0.7/'],
    ['private 192.168/16', () => 'http://192.168.1.1/'],
    ['link-local', () => 'http://169.254.10.10/'],
    ['AWS/GCP/Azure metadata', () => 'http://169.254.169.254/latest/meta-data/'],
    ['metadata in decimal', () => 'http://2852039166/latest/meta-data/'],
    ['Alibaba metadata', () => 'http://100.100.100.200/'],
    ['AWS IPv6 metadata', () => 'http://[fd00:ec2::254]/'],
    ['IPv6 unique local', () => 'http://[fd12:3456::1]/'],
  ])('refuses %s before any connection', (_label, url) => {
    expect(refusedCode(() => assertAllowedTarget(url(), anyHost))).toBe('target_not_allowed');
    expect(connections).toBe(0);
  });

  it('refuses hosts outside the allow-list, other schemes and credentials in the URL', () => {
    const policy: TargetPolicy = { allowHosts: ['api.openai.com', '*.openai.azure.com'] };
    expect(assertAllowedTarget('https://api.openai.com/v1/models', policy).hostname).toBe('api.openai.com');
    expect(assertAllowedTarget('https://eu.openai.azure.com/x', policy).hostname).toBe('eu.openai.azure.com');
    expect(refusedCode(() => assertAllowedTarget('https://openai.azure.com.evil.example/', policy))).toBe(
      'target_not_allowed',
    );
    expect(refusedCode(() => assertAllowedTarget('https://api.openai.com.evil.example/', policy))).toBe(
      'target_not_allowed',
    );
    expect(refusedCode(() => assertAllowedTarget('file:///etc/passwd', anyHost))).toBe('target_not_allowed');
    expect(refusedCode(() => assertAllowedTarget('https://user:pw@api.openai.com/', policy))).toBe(
      'target_not_allowed',
    );
    expect(refusedCode(() => assertAllowedTarget('not a url', policy))).toBe('target_not_allowed');
  });

  it('allows private networks or single addresses only when told, and metadata only by address', () => {
    expect(
      assertAllowedTarget('http://10.0.0.7/', { allowHosts: ['*'], allowPrivateNetworks: true }).hostname,
    ).toBe('10.0.0.7');
    expect(
      refusedCode(() =>
        assertAllowedTarget('http://169.254.169.254/', { allowHosts: ['*'], allowPrivateNetworks: true }),
      ),
    ).toBe('target_not_allowed');
    expect(
      assertAllowedTarget('http://[::ffff:127.0.0.1]/', {
        allowHosts: ['127.0.0.1'],
        allowAddresses: ['127.0.0.1'],
      }).hostname,
    ).toBe('[::ffff:7f00:1]');
  });

  it('refuses the EKS Pod Identity Agent (which hands out AWS credentials) as a metadata address, also where private networks are allowed', () => {
    expect(classifyAddress('169.254.170.23')).toBe('metadata');
    expect(classifyAddress('fd00:ec2::23')).toBe('metadata');
    for (const target of ['http://169.254.170.23/v1/credentials', 'http://[fd00:ec2::23]/v1/credentials'])
      expect(() => assertAllowedTarget(target, { allowHosts: ['*'], allowPrivateNetworks: true })).toThrow(
        expect.objectContaining({ code: 'target_not_allowed' }),
      );
  });

  it("refuses Oracle Cloud's classic metadata address (192.0.0.192) as metadata, also where private networks are allowed", () => {
    expect(classifyAddress('192.0.0.192')).toBe('metadata');
    expect(classifyAddress('192.0.0.191')).toBe('reserved');
    expect(() =>
      assertAllowedTarget('http://192.0.0.192/opc/v1/instance/', {
        allowHosts: ['*'],
        allowPrivateNetworks: true,
      }),
    ).toThrow(expect.objectContaining({ code: 'target_not_allowed' }));
  });

  it("refuses Azure's WireServer (168.63.129.16, not in a private range) as a metadata address, in every spelling", () => {
    expect(classifyAddress('168.63.129.16')).toBe('metadata');
    expect(classifyAddress('::ffff:a83f:8110')).toBe('metadata');
    for (const target of [
      'http://168.63.129.16/machine?comp=goalstate',
      'http://2822734096/',
      'http://[::ffff:168.63.129.16]/',
    ])
      expect(() => assertAllowedTarget(target, { allowHosts: ['*'], allowPrivateNetworks: true })).toThrow(
        expect.objectContaining({ code: 'target_not_allowed' }),
      );
  });

  it('classifies addresses', () => {
    expect(classifyAddress('8.8.8.8')).toBe('public');
    expect(classifyAddress('2606:4700::1111')).toBe('public');
    expect(classifyAddress('::ffff:10.1.2.3')).toBe('private');
    expect(classifyAddress('2002:7f00:1::')).toBe('loopback');
    expect(classifyAddress('fe80::1%eth0')).toBe('link-local');
  });

  it('classifies the IPv4 address inside SIIT (::ffff:0:0/96) and NAT64 (64:ff9b::/96, 64:ff9b:1::/48) addresses', () => {
    expect(classifyAddress('::ffff:0:7f00:1')).toBe('loopback');
    expect(classifyAddress('::ffff:0:10.1.2.3')).toBe('private');
    expect(classifyAddress('::ffff:0:a9fe:a9fe')).toBe('metadata');
    expect(classifyAddress('::ffff:0:808:808')).toBe('public');
    expect(classifyAddress('64:ff9b::192.168.0.1')).toBe('private');
    expect(classifyAddress('64:ff9b::808:808')).toBe('public');
    expect(classifyAddress('64:ff9b:1::7f00:1')).toBe('loopback');
    expect(classifyAddress('64:ff9b:1::169.254.169.254')).toBe('metadata');
    expect(classifyAddress('64:ff9b:1::808:808')).toBe('public');
    // a local-use prefix shorter than /96 puts the IPv4 address where we cannot know it: never public
    expect(classifyAddress('64:ff9b:1:7f00:1::')).toBe('reserved');
  });
});

describe('createGuardedAgent', () => {
  it('refuses a host name that resolves to a private address, before connecting (DNS rebinding)', async () => {
    const refused: string[] = [];
    const agent = createGuardedAgent(
      { allowHosts: ['rebind.example'] },
      {
        resolve: (_host, callback) => callback(null, [{ address: '10.20.30.40', family: 4 }]),
        onRefused: (host, reason) => refused.push(`${host}: ${reason}`),
      },
    );
    const failure = await request(`http://rebind.example:${port}/`, { dispatcher: agent }).catch(
      (error: unknown) => error,
    );
    // the client learns the class of address, not the address an internal name resolves to
    expect(failure).toMatchObject({
      code: 'target_not_allowed',
      message: 'The target host "rebind.example" resolves to a private address, which is not allowed.',
    });
    expect(refused).toEqual(['rebind.example: private address 10.20.30.40']);
    expect(connections).toBe(0);
    await agent.close();
  });

  it('refuses localhost through the system resolver', async () => {
    const agent = createGuardedAgent({ allowHosts: ['localhost'] });
    const failure = await request(`http://localhost:${port}/`, { dispatcher: agent }).catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'target_not_allowed' });
    expect(connections).toBe(0);
    await agent.close();
  });

  it('refuses IP literals at connect time even when a caller skipped assertAllowedTarget', async () => {
    const agent = createGuardedAgent({ allowHosts: ['*'] });
    for (const url of [`http://127.0.0.1:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`]) {
      const failure = await request(url, { dispatcher: agent }).catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'target_not_allowed' });
    }
    expect(connections).toBe(0);
    await agent.close();
  });

  it('connects to an explicitly allowed address and never follows its redirect', async () => {
    const agent = createGuardedAgent({ allowHosts: ['127.0.0.1'], allowAddresses: ['127.0.0.1'] });
    const response = await request(`http://127.0.0.1:${port}/start`, { dispatcher: agent });
    await response.body.dump();
    expect(response.statusCode).toBe(302);
    expect(requests).toBe(1);
    await agent.close();
  });
});

describe('hostMatches', () => {
  it('matches wildcard labels, never across a suffix trick', async () => {
    const { hostMatches } = await import('./assert-allowed-target');
    expect(hostMatches('*.pinecone.io', 'idx-abc.svc.us-east1.pinecone.io')).toBe(true);
    expect(hostMatches('*.pinecone.io', 'pinecone.io')).toBe(false);
    expect(hostMatches('*.pinecone.io', 'evilpinecone.io')).toBe(false);
    expect(hostMatches('bedrock-runtime.*.amazonaws.com', 'bedrock-runtime.us-east-1.amazonaws.com')).toBe(
      true,
    );
    expect(hostMatches('bedrock-runtime.*.amazonaws.com', 'bedrock-runtime.a.evil.amazonaws.com')).toBe(
      false,
    );
    expect(hostMatches('API.OpenAI.com', 'api.openai.com.')).toBe(true);
  });

  it('matches a `*` inside a label against part of that label only (Vertex AI regional hosts)', async () => {
    const { hostMatches } = await import('./assert-allowed-target');
    expect(hostMatches('*-aiplatform.googleapis.com', 'us-central1-aiplatform.googleapis.com')).toBe(true);
    expect(hostMatches('*-aiplatform.googleapis.com', 'europe-west4-aiplatform.googleapis.com')).toBe(true);
    // not the bare name, not across labels, not a lookalike suffix
    expect(hostMatches('*-aiplatform.googleapis.com', 'aiplatform.googleapis.com')).toBe(false);
    expect(hostMatches('*-aiplatform.googleapis.com', 'evil.com.us-aiplatform.googleapis.com')).toBe(false);
    expect(hostMatches('*-aiplatform.googleapis.com', 'us-aiplatform.googleapis.com.evil.com')).toBe(false);
    expect(hostMatches('*-aiplatform.googleapis.com', 'us-aiplatformxgoogleapis.com')).toBe(false);
  });

  it('matches several `*` in one label, each standing for one or more label characters', async () => {
    const { hostMatches } = await import('./assert-allowed-target');
    expect(hostMatches('llm-*-*.example.com', 'llm-eu-1.example.com')).toBe(true);
    expect(hostMatches('llm-*-*.example.com', 'llm-eu-west-1.example.com')).toBe(true);
    expect(hostMatches('llm-*-*.example.com', 'llm-eu-.example.com')).toBe(false);
    expect(hostMatches('llm-*-*.example.com', 'llm--1.example.com')).toBe(false);
    expect(hostMatches('llm-*-*.example.com', 'llm-eu_x-1.example.com')).toBe(false);
    expect(hostMatches('a*b*.example.com', 'ab.example.com')).toBe(false);
    expect(hostMatches('a*b*.example.com', 'axbybx.example.com')).toBe(true);
    expect(hostMatches('*.*.example.com', 'one.example.com')).toBe(false);
    expect(hostMatches('*.*.example.com', 'a.b.c.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'a..example.com')).toBe(false);
  });

  it('answers at once for a long label a client names against an entry of many stars (a regular expression backtracked for hours)', async () => {
    const { hostMatches } = await import('./assert-allowed-target');
    const label = '-'.repeat(5000);
    expect(hostMatches('*-*-*-*-*-*-*x.example.com', `${label}.example.com`)).toBe(false);
    expect(hostMatches('*-*-*-*-*-*-*x.example.com', `${label}x.example.com`)).toBe(true);
    expect(hostMatches('*.a*a*a*a*a*b', `${'a'.repeat(3000)}.${'a'.repeat(3000)}`)).toBe(false);
  });
});
