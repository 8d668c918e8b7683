import { createModelCatalog } from '@switchyard/proxy-context';
import { createGateway, type Gateway, type GatewayOptions } from '@switchyard/proxy-core';
import { captureLogLines, type CapturedLog } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/index';

// The `context` option's model catalog caps budget reservations and tokensPerMinute weights, and
// describes /v1/models, as the engine's `modelCatalog`. createApp gives it to a gateway it builds
// from options; a gateway passed in built keeps the catalog it was created with (an engine takes
// none later), so createApp warns when that gateway has none: the catalog would be lost silently.

const apps: FastifyInstance[] = [];
const gateways: Gateway[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

// an alias the shipped catalog knows, answered by the mock provider
const options: GatewayOptions = {
  providers: [{ name: 'mock', type: 'mock' }],
  models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'mock', model: 'echo' }] }],
};

function built(extra: Partial<GatewayOptions> = {}): Gateway {
  const gateway = createGateway({ ...options, ...extra });
  gateways.push(gateway);
  return gateway;
}

async function start(
  gateway: Gateway | GatewayOptions,
  log: CapturedLog,
  context = {},
): Promise<FastifyInstance> {
  const app = createApp({ gateway, context, logger: { level: 'warn', stream: log.stream } });
  apps.push(app);
  await app.ready();
  return app;
}

const catalogWarnings = (log: CapturedLog) =>
  log.lines().filter((line) => String(line['msg']).includes('modelCatalog'));

async function listedModel(app: FastifyInstance): Promise<Record<string, unknown> | undefined> {
  const listed = await app.inject({ method: 'GET', url: '/v1/models' });
  return listed
    .json<{ data: Array<Record<string, unknown>> }>()
    .data.find((model) => model['id'] === 'gpt-4o-mini');
}

describe("createApp's context option and the model catalog of a gateway passed in built", () => {
  it('warns when the gateway has no catalog: the context catalog does not reach it', async () => {
    const log = captureLogLines();
    const gateway = built();
    const app = await start(gateway, log);
    expect(catalogWarnings(log)).toEqual([
      expect.objectContaining({ level: 40, missing: 'gateway.modelCatalog' }),
    ]);
    expect(String(catalogWarnings(log)[0]?.['msg'])).toMatch(
      /^createApp: the gateway passed in was created without a modelCatalog/,
    );
    // what the warning says: the engine has no catalog, so /v1/models lists no details
    expect(gateway.modelCatalog).toBeUndefined();
    expect(await listedModel(app)).not.toHaveProperty('max_output_tokens');
  });

  it('does not warn when the gateway has its own catalog, which it keeps', async () => {
    const log = captureLogLines();
    const catalog = createModelCatalog();
    const app = await start(built({ modelCatalog: catalog }), log, { catalog });
    expect(catalogWarnings(log)).toEqual([]);
    expect(await listedModel(app)).toHaveProperty('max_output_tokens');
  });

  it('does not warn when createApp builds the gateway, which gets the context catalog', async () => {
    const log = captureLogLines();
    const app = await start(options, log);
    expect(catalogWarnings(log)).toEqual([]);
    expect(await listedModel(app)).toHaveProperty('max_output_tokens');
  });

  it('does not warn without the context option', async () => {
    const log = captureLogLines();
    const app = createApp({ gateway: built(), logger: { level: 'warn', stream: log.stream } });
    apps.push(app);
    await app.ready();
    expect(catalogWarnings(log)).toEqual([]);
  });
});
