import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from '@switchyard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../src/start-gateway';
import { killGatewayProcesses, startGatewayProcess, type GatewayProcess } from './gateway-process';

// `switchyard healthcheck` of the built binary, as the image's HEALTHCHECK runs it.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
let dir: string;
let gateway: RunningGateway;
const processes: GatewayProcess[] = [];
const servers: Server[] = [];

async function healthcheck(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'healthcheck', ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** A server on loopback that answers every request with `handle`. */
async function serve(handle: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handle);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const portOf = (url: string): string => new URL(url).port;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-healthcheck-'));
  gateway = await startGateway({
    config: { providers: [{ name: 'mock', type: 'mock' }], requestLog: { store: 'none' } },
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
  });
});
afterEach(async () => {
  await killGatewayProcesses(processes);
  await Promise.all(
    servers.splice(0).map(async (server) => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    }),
  );
});
afterAll(async () => {
  await gateway.shutdown();
  await rm(dir, { recursive: true, force: true });
});

describe('switchyard healthcheck', () => {
  it('probes the port a gateway took from its config file when PORT is blank (the image probed PORT, else 8080)', async () => {
    const port = await freeTcpPort();
    const file = join(dir, 'gateway.yaml');
    await writeFile(
      file,
      `server: { port: ${port}, host: 127.0.0.1 }\nproviders: [ { name: mock, type: mock } ]\nrequestLog: { store: none }\n`,
    );
    // the environment of the container: start and the health check read the same variables
    const env = { PORT: '', SWITCHYARD_CONFIG: file };
    const started = await startGatewayProcess(['start'], env, { cwd: dir });
    processes.push(started);
    expect(portOf(started.url)).toBe(String(port));
    const byEnv = await healthcheck([], env);
    expect(byEnv).toMatchObject({ code: 0, stdout: `healthy: http://127.0.0.1:${port}/health\n` });
    // the file given to the health check as start was given it
    const byFlag = await healthcheck(['--config', file], { PORT: '' });
    expect(byFlag).toMatchObject({ code: 0, stdout: `healthy: http://127.0.0.1:${port}/health\n` });
  });

  it('finds a gateway started with flags it cannot see (--port, --config, a port of 0) at the address start recorded in SWITCHYARD_ADDRESS_FILE', async () => {
    const addressFile = join(dir, 'address.json');
    const config = join(dir, 'flagged.yaml');
    await writeFile(
      config,
      'server: { port: 0, host: 127.0.0.1 }\nproviders: [ { name: mock, type: mock } ]\nrequestLog: { store: none }\n',
    );
    // the container's environment: PORT=8080 from the image, the config file and port given as flags of start
    const elsewhere = String(await freeTcpPort());
    const env = { PORT: elsewhere, SWITCHYARD_ADDRESS_FILE: addressFile };
    const port = await freeTcpPort();
    const single = await startGatewayProcess(['start', '--config', config, '--port', String(port)], env, {
      cwd: dir,
    });
    processes.push(single);
    expect(await healthcheck([], env)).toMatchObject({
      code: 0,
      stdout: `healthy: http://127.0.0.1:${port}/health\n`,
    });
    single.child.kill('SIGTERM');
    expect(await single.exited).toBe(0);
    // removed as the gateway exits: the check goes back to the environment, where nothing listens
    await expect(access(addressFile)).rejects.toThrow(/ENOENT/);
    expect((await healthcheck([], env)).stderr).toContain(`http://127.0.0.1:${elsewhere}`);
    // a cluster on the port the OS picked (--port 0): recorded by the primary once every worker listens
    const workers = await startGatewayProcess(
      ['start', '--config', config, '--port', '0', '--workers', '2'],
      env,
      {
        cwd: dir,
      },
    );
    processes.push(workers);
    expect(await healthcheck([], env)).toMatchObject({ code: 0, stdout: `healthy: ${workers.url}/health\n` });
  });

  it('warns and starts when it cannot write SWITCHYARD_ADDRESS_FILE, the check then reading the environment', async () => {
    const port = await freeTcpPort();
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      SWITCHYARD_ADDRESS_FILE: join(dir, 'missing', 'address.json'),
    };
    const started = await startGatewayProcess(['start'], env, { cwd: dir });
    processes.push(started);
    await expect
      .poll(() => started.stderr())
      .toContain(`SWITCHYARD_ADDRESS_FILE: cannot write ${join(dir, 'missing', 'address.json')} (ENOENT)`);
    expect((await healthcheck([], env)).code).toBe(0);
  });

  it('takes PORT and HOST over the file, as start does', async () => {
    const file = join(dir, 'elsewhere.yaml');
    await writeFile(file, `server: { port: ${await freeTcpPort()}, host: 10.255.255.1 }\n`);
    const result = await healthcheck([], {
      PORT: portOf(gateway.url),
      HOST: '0.0.0.0',
      SWITCHYARD_CONFIG: file,
    });
    expect(result).toMatchObject({ code: 0, stdout: `healthy: ${gateway.url}/health\n` });
  });

  it('asks the one address HOST names (the image asked 127.0.0.1 whatever HOST was)', async () => {
    const other = await startGateway({
      config: { providers: [{ name: 'mock', type: 'mock' }], requestLog: { store: 'none' } },
      port: 0,
      host: '127.0.0.2',
      logLevel: 'silent',
    });
    try {
      const result = await healthcheck([], { PORT: portOf(other.url), HOST: '127.0.0.2' });
      expect(result).toMatchObject({
        code: 0,
        stdout: `healthy: http://127.0.0.2:${portOf(other.url)}/health\n`,
      });
    } finally {
      await other.shutdown();
    }
  });

  it('asks the gateway this environment starts, not SWITCHYARD_URL (the admin commands’ gateway)', async () => {
    const closed = `http://127.0.0.1:${await freeTcpPort()}`;
    const result = await healthcheck([], { PORT: portOf(gateway.url), SWITCHYARD_URL: closed });
    expect(result.code).toBe(0);
    expect((await healthcheck(['--url', gateway.url], { PORT: portOf(closed) })).code).toBe(0);
  });

  it('exits 1 when nothing listens, /health answers an error, or no answer comes within --timeout', async () => {
    const closed = await healthcheck([], { PORT: String(await freeTcpPort()) });
    expect(closed.code).toBe(1);
    expect(closed.stderr).toMatch(/Cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    const failing = await serve((_request, response) => {
      response.writeHead(503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: 'down' }));
    });
    const refused = await healthcheck(['--url', failing], {});
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('The gateway refused /health (503)');
    const silent = await serve(() => undefined);
    const late = await healthcheck(['--url', silent, '--timeout', '200ms'], {});
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('no answer within 200 ms');
  });

  it("refuses PORT=0 or the file's server.port: 0 (a port the OS picks) unless --url names the gateway, and a bad --timeout with exit 2", async () => {
    const zero = await healthcheck([], { PORT: '0' });
    expect(zero.code).toBe(1);
    expect(zero.stderr).toContain('PORT: 0 lets the system pick the port');
    expect((await healthcheck(['--url', gateway.url], { PORT: '0' })).code).toBe(0);
    // the file's port 0 as well: it went to 8080, healthy when an unrelated server answered there
    const config = join(dir, 'port0.yaml');
    await writeFile(config, 'server: { port: 0 }\nproviders: [ { name: mock, type: mock } ]\n');
    const fileZero = await healthcheck(['--config', config], {});
    expect(fileZero.code).toBe(1);
    expect(fileZero.stderr).toContain('/server/port: 0 lets the system pick the port');
    expect(fileZero.stderr).toContain('pass --url');
    expect((await healthcheck(['--config', config, '--url', gateway.url], {})).code).toBe(0);
    const usage = await healthcheck(['--timeout', 'soon'], {});
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--timeout: "soon" is not a duration');
  });
});
