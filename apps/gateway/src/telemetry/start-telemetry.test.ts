import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTelemetry } from './start-telemetry';

interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> };
  }>;
}

// The resource of the spans the gateway's SDK exports, as an OTLP/HTTP receiver here gets them.
describe('startTelemetry resource', () => {
  let receiver: Server;
  let endpoint: string;
  const received: ExportRequest[] = [];

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      const parts: Buffer[] = [];
      request.on('data', (part: Buffer) => parts.push(part));
      request.on('end', () => {
        received.push(JSON.parse(Buffer.concat(parts).toString('utf8')) as ExportRequest);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    received.length = 0;
    // startTelemetry registers its provider globally: the next test registers its own
    trace.disable();
    context.disable();
    propagation.disable();
  });

  afterAll(() => receiver.close());

  /** Starts the SDK with `env`, exports one span, shuts down: the exported resource's attributes. */
  async function exportedResource(env: NodeJS.ProcessEnv): Promise<Record<string, string | undefined>> {
    const telemetry = await startTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ...env });
    trace.getTracer('test').startSpan('one').end();
    await telemetry?.shutdown();
    const attributes = received.flatMap((body) =>
      (body.resourceSpans ?? []).flatMap((spans) => spans.resource?.attributes ?? []),
    );
    return Object.fromEntries(attributes.map(({ key, value }) => [key, value.stringValue]));
  }

  it('names the service switchyard when the environment does not', async () => {
    vi.stubEnv('OTEL_SERVICE_NAME', undefined);
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', undefined);
    const resource = await exportedResource({});
    expect(resource['service.name']).toBe('switchyard');
    expect(resource['telemetry.sdk.language']).toBe('nodejs');
  });

  it('adds the attributes of OTEL_RESOURCE_ATTRIBUTES (percent-decoded), its service.name over the default', async () => {
    vi.stubEnv('OTEL_SERVICE_NAME', undefined);
    vi.stubEnv(
      'OTEL_RESOURCE_ATTRIBUTES',
      'deployment.environment.name=staging,service.namespace=llm,service.name=gateway-eu,k8s.pod.name=sy%2C1',
    );
    const resource = await exportedResource({});
    expect(resource).toMatchObject({
      'deployment.environment.name': 'staging',
      'service.namespace': 'llm',
      'service.name': 'gateway-eu',
      'k8s.pod.name': 'sy,1',
      'telemetry.sdk.language': 'nodejs',
    });
  });

  it('takes service.name from OTEL_SERVICE_NAME over OTEL_RESOURCE_ATTRIBUTES, as the specification says', async () => {
    vi.stubEnv('OTEL_SERVICE_NAME', 'switchyard-eu');
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', 'service.name=gateway-eu,service.version=1.2.3');
    const resource = await exportedResource({ OTEL_SERVICE_NAME: 'switchyard-eu' });
    expect(resource).toMatchObject({ 'service.name': 'switchyard-eu', 'service.version': '1.2.3' });
  });
});
