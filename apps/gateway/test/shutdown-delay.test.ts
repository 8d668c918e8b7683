import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config/load-config';
import { withServerEnv } from '../src/config/server-env';
import { startGateway, type RunningGateway } from '../src/start-gateway';
import { send } from './gateway-process';

const running: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(async (gateway) => gateway.shutdown()));
});

async function start(server: Record<string, unknown>): Promise<RunningGateway> {
  const config = await validateConfig(
    { server, providers: [{ name: 'mock', type: 'mock' }], models: [{ name: 'm', targets: [{ provider: 'mock', model: 'mock-1' }] }] },
    {},
    'test.yaml',
  );
  const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logLevel: 'silent' });
  running.push(gateway);
  return gateway;
}

const chat = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

describe('server.shutdownDelayMs', () => {
  // long enough for two local requests on a loaded machine; the test waits it out once
  it('keeps serving with /ready at 503 for the delay, then closes the listener', async () => {
    const gateway = await start({ shutdownDelayMs: 3_000 });
    expect((await send(`${gateway.url}/ready`)).status).toBe(200);
    const stopped = gateway.shutdown();
    const ready = await send(`${gateway.url}/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'draining' });
    // a request the load balancer sends before it has noticed is still answered
    const served = await send(`${gateway.url}/v1/chat/completions`, { body: chat });
    expect(served.status).toBe(200);
    expect(served.headers['connection']).toBe('close');
    await stopped;
    await expect(send(`${gateway.url}/health`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('takes SWITCHYARD_SHUTDOWN_DELAY_MS over the file, and refuses a malformed value', () => {
    const config = { providers: [{ name: 'mock', type: 'mock' }], server: { shutdownDelayMs: 1_000 } };
    expect(withServerEnv(config, { SWITCHYARD_SHUTDOWN_DELAY_MS: '5000' }).server).toEqual({ shutdownDelayMs: 5_000 });
    expect(withServerEnv(config, { SWITCHYARD_SHUTDOWN_DELAY_MS: '' }).server).toEqual({ shutdownDelayMs: 1_000 });
    for (const bad of ['-1', '1.5', '5s']) expect(() => withServerEnv(config, { SWITCHYARD_SHUTDOWN_DELAY_MS: bad })).toThrow(/SWITCHYARD_SHUTDOWN_DELAY_MS: ".*" is not a duration in milliseconds/);
  });
});
