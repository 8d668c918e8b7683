import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../src/config/load-config';
import { withServerEnv } from '../src/config/server-env';
import { startGateway, type RunningGateway } from '../src/start-gateway';
import {
  killGatewayProcesses,
  send,
  startGatewayProcess,
  until,
  type GatewayProcess,
} from './gateway-process';

const running: RunningGateway[] = [];
const processes: GatewayProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await killGatewayProcesses(processes);
  await Promise.all(running.splice(0).map(async (gateway) => gateway.shutdown()));
});
afterAll(() => Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true }))));

async function start(server: Record<string, unknown>): Promise<RunningGateway> {
  const config = await validateConfig(
    // no ./switchyard.db in the working directory (the repository)
    {
      server,
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'm', targets: [{ provider: 'mock', model: 'mock-1' }] }],
      requestLog: { store: 'none' },
    },
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
    expect(withServerEnv(config, { SWITCHYARD_SHUTDOWN_DELAY_MS: '5000' }).server).toEqual({
      shutdownDelayMs: 5_000,
    });
    expect(withServerEnv(config, { SWITCHYARD_SHUTDOWN_DELAY_MS: '' }).server).toEqual({
      shutdownDelayMs: 1_000,
    });
    for (const bad of ['-1', '1.5', '5s'])
      expect(() => withServerEnv(config, { SWITCHYARD_SHUTDOWN_DELAY_MS: bad })).toThrow(
        /SWITCHYARD_SHUTDOWN_DELAY_MS: ".*" is not a duration in milliseconds/,
      );
  });
});

describe('signals during shutdown', { timeout: 60_000 }, () => {
  // a delay and a deadline far longer than any test: only a second signal ends the delay early
  async function startLong(workers: number): Promise<GatewayProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-signals-'));
    dirs.push(dir);
    const config = join(dir, 'switchyard.yaml');
    await writeFile(
      config,
      JSON.stringify({
        server: { shutdownDelayMs: 600_000, shutdownTimeoutMs: 600_000 },
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'm', targets: [{ provider: 'mock', model: 'mock-1' }] }],
        requestLog: { store: 'none' },
      }),
    );
    const gateway = await startGatewayProcess(['start', '--config', config, '--port', '0'], {
      SWITCHYARD_WORKERS: String(workers),
    });
    processes.push(gateway);
    return gateway;
  }

  const draining = async (gateway: GatewayProcess): Promise<true | undefined> =>
    (await send(`${gateway.url}/ready`)).status === 503 ? true : undefined;
  const refused = async (gateway: GatewayProcess): Promise<true | undefined> =>
    send(`${gateway.url}/health`).then(
      () => undefined,
      (error: Error) => (/ECONNREFUSED/.test(error.message) ? true : undefined),
    );

  it('skips the rest of the delay on a second signal (SIGINT after SIGTERM) and still exits 0', async () => {
    const gateway = await startLong(1);
    gateway.child.kill('SIGTERM');
    await until(() => draining(gateway), 20_000, '/ready to answer 503');
    gateway.child.kill('SIGINT');
    expect(await gateway.exited).toBe(0);
  });

  it('closes gracefully on a second SIGTERM, and exits 1 on a third', async () => {
    const gateway = await startLong(1);
    // a request still in flight (its body never ends) holds the graceful close open
    const inflight = connect(Number(new URL(gateway.url).port), '127.0.0.1');
    await once(inflight, 'connect');
    inflight.on('error', () => undefined);
    inflight.write(
      'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
    );
    gateway.child.kill('SIGTERM');
    await until(() => draining(gateway), 20_000, '/ready to answer 503');
    gateway.child.kill('SIGTERM');
    // the delay is over: the listener has closed, the process still drains
    await until(() => refused(gateway), 20_000, 'the listener to close');
    expect(gateway.child.exitCode).toBeNull();
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(1);
    inflight.destroy();
  });

  it('forwards a second signal to the workers, which skip the rest of their delay', async () => {
    const gateway = await startLong(2);
    gateway.child.kill('SIGTERM');
    await until(() => draining(gateway), 20_000, '/ready to answer 503');
    gateway.child.kill('SIGINT');
    expect(await gateway.exited).toBe(0);
  });
});
