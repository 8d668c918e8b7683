import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config-error';
import { otlpTracesUrl } from '../src/telemetry/start-telemetry';
import { send, startGatewayProcess, type GatewayProcess } from './gateway-process';

// The built gateway with OTEL_EXPORTER_OTLP_ENDPOINT set exports its spans over OTLP/HTTP
// (JSON) to a receiver in this test, and flushes them when it shuts down.

const PROVIDER_KEY = 'sk-otel-export-canary-0000000000';
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

/** An OTLP JSON attribute value. */
interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: KeyValue[];
  status?: { code?: number };
}
interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

function plain(value: AnyValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(plain);
  return undefined;
}

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, plain(value)]));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

describe('OTLP span export from the gateway process', { timeout: 60_000 }, () => {
  let upstream: MockUpstream;
  let receiver: Server;
  let gateway: GatewayProcess;
  let dir: string | undefined;
  const exports: Array<{ path: string; contentType: string | undefined; body: ExportRequest }> = [];

  beforeAll(async () => {
    upstream = await createMockUpstream();
    receiver = createServer((request, response) => {
      void readBody(request)
        .then((text) => {
          exports.push({
            path: request.url ?? '',
            contentType: request.headers['content-type'],
            body: JSON.parse(text) as ExportRequest,
          });
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        })
        .catch((error: unknown) => {
          // a body that is not OTLP JSON fails the test through the missing export, not as an unhandled rejection
          exports.push({
            path: `unparseable: ${String(error)}`,
            contentType: request.headers['content-type'],
            body: { resourceSpans: [] },
          });
          response.writeHead(400).end();
        });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    dir = await mkdtemp(join(tmpdir(), 'switchyard-otel-'));
    const config = join(dir, 'switchyard.yaml');
    await writeFile(
      config,
      [
        'server: { port: 0, host: 127.0.0.1, workers: 1 }',
        'providers:',
        `  - { name: up, type: openai, apiKey: ${PROVIDER_KEY}, baseUrl: "${upstream.url}/v1" }`,
        'models:',
        '  - { name: fast, targets: [ { provider: up, model: gpt-4o-mini } ] }',
        'requestLog: { store: none }',
      ].join('\n'),
    );
    gateway = await startGatewayProcess(['start', '--config', config], {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      OTEL_SERVICE_NAME: 'switchyard-under-test',
    });
  }, 90_000);

  afterAll(async () => {
    gateway?.child.kill('SIGTERM');
    await gateway?.exited;
    await upstream?.close();
    receiver?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('exports the request span and the attempt span with GenAI attributes in the client trace, flushed at shutdown', async () => {
    const reply = await send(`${gateway.url}/v1/chat/completions`, {
      headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, baggage: 'tenant=acme' },
      body: { model: 'fast', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 20 },
    });
    expect(reply.status).toBe(200);
    const completion = JSON.parse(reply.body) as {
      id: string;
      model: string;
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    const sent = upstream.requests.at(-1)?.headers;

    // the batch processor exports at the latest when the gateway shuts down
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);

    expect(exports.length).toBeGreaterThan(0);
    expect(
      exports.every(
        (received) => received.path === '/v1/traces' && received.contentType === 'application/json',
      ),
    ).toBe(true);
    const resources = exports.flatMap((received) => received.body.resourceSpans ?? []);
    expect(attributes(resources[0]?.resource?.attributes)['service.name']).toBe('switchyard-under-test');
    const spans = resources.flatMap((resource) =>
      (resource.scopeSpans ?? []).flatMap((scope) => scope.spans ?? []),
    );
    const server = spans.find((span) => span.name === 'chat fast');
    const attempt = spans.find((span) => span.name === 'chat gpt-4o-mini');
    if (server === undefined || attempt === undefined)
      throw new Error(`missing spans: ${spans.map((span) => span.name).join(', ')}`);

    // SERVER = 2, CLIENT = 3 in OTLP
    expect(server.kind).toBe(2);
    expect(server.traceId).toBe(CLIENT_TRACE);
    expect(server.parentSpanId).toBe(CLIENT_SPAN);
    expect(attributes(server.attributes)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'fast',
      'gen_ai.request.max_tokens': 20,
      'gen_ai.response.model': completion.model,
      'gen_ai.response.id': completion.id,
      'gen_ai.usage.input_tokens': completion.usage.prompt_tokens,
      'gen_ai.usage.output_tokens': completion.usage.completion_tokens,
    });
    expect(attempt.kind).toBe(3);
    expect(attempt.traceId).toBe(CLIENT_TRACE);
    expect(attempt.parentSpanId).toBe(server.spanId);
    expect(attributes(attempt.attributes)).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.output_tokens': completion.usage.completion_tokens,
    });

    // propagated upstream: the attempt span is the provider's parent; baggage goes on
    expect(sent?.['traceparent']).toBe(`00-${CLIENT_TRACE}-${attempt.spanId}-01`);
    expect(sent?.['baggage']).toBe('tenant=acme');
    expect(JSON.stringify(exports)).not.toContain(PROVIDER_KEY);
  });
});

describe('otlpTracesUrl', () => {
  it('appends the traces path to the base endpoint and takes a per-signal endpoint as given', () => {
    expect(otlpTracesUrl({})).toBeUndefined();
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe(
      'http://collector:4318/v1/traces',
    );
    expect(
      otlpTracesUrl({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/custom',
      }),
    ).toBe('http://other:4318/custom');
    expect(
      otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBeUndefined();
  });

  it('refuses an endpoint that is not an http(s) URL, naming the variable and not echoing the value', () => {
    expect(() => otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'notaurl' })).toThrow(ConfigError);
    expect(() => otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'notaurl' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT is not an http:\/\/ or https:\/\/ URL/,
    );
    expect(() => otlpTracesUrl({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector:4317' })).toThrow(
      /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not/,
    );
    expect(() =>
      otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318/otlp-token-secret' }),
    ).not.toThrow(/otlp-token-secret/);
  });
});
