import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigFile } from '../src/config/config-schema';
import { ConfigError } from '../src/config/config-error';
import { validateConfig } from '../src/config/load-config';
import { checkOpenExposure, reachableUrl } from '../src/config/open-mode';
import { withServerEnv } from '../src/config/server-env';
import { startGateway, type RunningGateway } from '../src/start-gateway';
import { killGatewayProcesses, send, startGatewayProcess, type GatewayProcess } from './gateway-process';

const MASTER = 'sk-sy-open-mode-master-0000000000';
const running: RunningGateway[] = [];
const processes: GatewayProcess[] = [];
afterEach(async () => {
  await killGatewayProcesses(processes);
  await Promise.all(running.splice(0).map(async (gateway) => gateway.shutdown()));
});

const providers = [{ name: 'mock', type: 'mock' }];
const models = [{ name: 'm', targets: [{ provider: 'mock', model: 'mock-1' }] }];

async function start(
  extra: Record<string, unknown> = {},
  host = '127.0.0.1',
  env: NodeJS.ProcessEnv = {},
): Promise<RunningGateway> {
  const config = withServerEnv(
    await validateConfig({ providers, models, requestLog: { store: 'none' }, ...extra }, {}, 'test.yaml'),
    env,
  );
  const gateway = await startGateway({ config, port: 0, host, logLevel: 'silent' });
  running.push(gateway);
  return gateway;
}

const chat = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

/** Sends one request as written, on a raw socket (node:http would not send an absolute-form target), and resolves with the status. */
async function rawStatus(port: string, target: string, host: string): Promise<number> {
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  socket.end(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  let text = '';
  socket.setEncoding('utf8');
  for await (const chunk of socket) text += chunk as string;
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1]);
}

function errorOf(body: string): { code: string; message: string } {
  return (JSON.parse(body) as { error: { code: string; message: string } }).error;
}

describe('an open gateway (no client keys, key store or master key)', () => {
  it('answers only loopback Host names, so a DNS-rebinding page cannot reach it', async () => {
    const gateway = await start();
    const port = new URL(gateway.url).port;
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `127.0.0.2:${port}`,
      `[::1]:${port}`,
      `[::ffff:127.0.0.1]:${port}`,
      'LOCALHOST',
    ]) {
      expect(
        (await send(`${gateway.url}/v1/chat/completions`, { body: chat, headers: { host } })).status,
      ).toBe(200);
    }
    const rebound = await send(`${gateway.url}/v1/chat/completions`, {
      body: chat,
      headers: { host: `attacker.example:${port}` },
    });
    expect(rebound.status).toBe(403);
    expect(errorOf(rebound.body).code).toBe('permission_denied');
    expect(errorOf(rebound.body).message).toMatch(
      /^The Host "attacker\.example:\d+" is not allowed: this gateway answers to localhost, 127\.0\.0\.0\/8, \[::1\], 0\.0\.0\.0, \[::\]; .*server\.allowedHosts/,
    );
    for (const host of [`[::ffff:10.0.0.1]:${port}`, `127.0.0.1.attacker.example:${port}`]) {
      expect(
        (await send(`${gateway.url}/v1/chat/completions`, { body: chat, headers: { host } })).status,
      ).toBe(403);
    }
    // probes carry no data and come with the pod IP as their Host
    expect((await send(`${gateway.url}/health`, { headers: { host: '10.1.2.3:8080' } })).status).toBe(200);
    expect((await send(`${gateway.url}/ready`, { headers: { host: '10.1.2.3:8080' } })).status).toBe(200);
  });

  it('refuses the admin API, which would otherwise be open', async () => {
    const gateway = await start();
    const keys = await send(`${gateway.url}/admin/keys`);
    expect(keys.status).toBe(403);
    expect(errorOf(keys.body)).toMatchObject({
      code: 'permission_denied',
      message: expect.stringContaining('no master key is configured (set SWITCHYARD_MASTER_KEY') as unknown,
    });
    expect((await send(`${gateway.url}/admin/usage?group_by=model`)).status).toBe(403);
  });

  it('refuses the admin API however the request target is spelled', async () => {
    // a request log, so /admin/requests and /admin/usage exist
    const gateway = await start({ requestLog: { store: 'sqlite', path: ':memory:' } });
    const port = new URL(gateway.url).port;
    for (const target of [
      'http://x/admin/requests',
      'http://x/admin/usage?group_by=model',
      'http://x/admin/usage/series',
      'http://x/admin/providers',
      '/%61dmin/requests',
    ]) {
      expect({ target, status: await rawStatus(port, target, 'localhost') }).toEqual({ target, status: 403 });
    }
    // the probes keep their exemption from the Host check in absolute form too
    expect(await rawStatus(port, 'http://x/health', '10.1.2.3:8080')).toBe(200);
  });

  it('answers the names listed in server.allowedHosts too', async () => {
    const gateway = await start({ server: { allowedHosts: ['gateway.internal', '10.0.0.5'] } });
    expect(
      (
        await send(`${gateway.url}/v1/chat/completions`, {
          body: chat,
          headers: { host: 'Gateway.Internal:8080' },
        })
      ).status,
    ).toBe(200);
    expect(
      (await send(`${gateway.url}/v1/chat/completions`, { body: chat, headers: { host: '10.0.0.5' } }))
        .status,
    ).toBe(200);
    expect(
      (await send(`${gateway.url}/v1/chat/completions`, { body: chat, headers: { host: 'other.internal' } }))
        .status,
    ).toBe(403);
  });

  it('refuses a page of another site, which needs no rebinding to send requests to 127.0.0.1, and serves pages of the listed hosts', async () => {
    const gateway = await start({ server: { allowedHosts: ['gateway.internal'] } });
    const cross = await send(`${gateway.url}/proxy/openai/v1/chat/completions`, {
      body: '{}',
      headers: { origin: 'https://attacker.example', 'content-type': 'text/plain' },
    });
    expect(cross.status).toBe(403);
    expect(errorOf(cross.body).message).toMatch(
      /the Origin "https:\/\/attacker\.example" is not one of localhost, 127\.0\.0\.0\/8, \[::1\], 0\.0\.0\.0, \[::\], gateway\.internal:/,
    );
    expect(
      (
        await send(`${gateway.url}/v1/chat/completions`, {
          body: chat,
          headers: { origin: 'https://gateway.internal' },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await send(`${gateway.url}/v1/chat/completions`, {
          body: chat,
          headers: { origin: 'http://localhost:3000' },
        })
      ).status,
    ).toBe(200);
  });

  it("names the config file's settings, not proxy-api's option names, when it refuses a page of another site", async () => {
    const gateway = await start();
    const cross = await send(`${gateway.url}/v1/chat/completions`, {
      body: chat,
      headers: { origin: 'https://attacker.example' },
    });
    expect(cross.status).toBe(403);
    expect(errorOf(cross.body).message).toMatch(
      /Configure client keys \(keys, admin\.keyStore or admin\.masterKey\), list the page's host in server\.allowedHosts, or its origin in cors\.origin\.$/,
    );
  });

  it('answers a Host of 0.0.0.0 or [::] (a client of this machine that connects there), but not a page of another site sent there', async () => {
    const gateway = await start();
    const port = new URL(gateway.url).port;
    for (const host of [`0.0.0.0:${port}`, `[::]:${port}`]) {
      expect({
        host,
        status: (await send(`${gateway.url}/v1/chat/completions`, { body: chat, headers: { host } })).status,
      }).toEqual({ host, status: 200 });
    }
    const cross = await send(`${gateway.url}/proxy/openai/v1/chat/completions`, {
      body: '{}',
      headers: { host: `0.0.0.0:${port}`, origin: 'https://attacker.example', 'content-type': 'text/plain' },
    });
    expect(cross.status).toBe(403);
    expect((await send(`${gateway.url}/admin/keys`, { headers: { host: `0.0.0.0:${port}` } })).status).toBe(
      403,
    );
  });

  it('matches a listed IPv6 address however server.allowedHosts or the Host spells it', async () => {
    const gateway = await start({ server: { allowedHosts: ['[fd00:0::1]', '[::ffff:10.0.0.5]'] } });
    for (const host of ['[fd00::1]:8080', '[FD00:0:0:0:0:0:0:1]', '10.0.0.5', '[::ffff:a00:5]:8080']) {
      expect({
        host,
        status: (await send(`${gateway.url}/v1/chat/completions`, { body: chat, headers: { host } })).status,
      }).toEqual({ host, status: 200 });
    }
  });

  it('refuses a listed name no Host can match, in the file or in SWITCHYARD_ALLOWED_HOSTS', async () => {
    await expect(
      validateConfig(
        { providers, server: { allowedHosts: ['gateway.internal', '1.2.3.4.5', 'a@b'] } },
        {},
        'test.yaml',
      ),
    ).rejects.toThrow(
      /\/server\/allowedHosts\/1: "1\.2\.3\.4\.5" is not a host name .*\/server\/allowedHosts\/2: "a@b" is not a host name/s,
    );
    expect(() =>
      withServerEnv({ providers }, { SWITCHYARD_ALLOWED_HOSTS: 'gateway.internal,256.0.0.1' }),
    ).toThrow(/SWITCHYARD_ALLOWED_HOSTS: "256\.0\.0\.1" is not a host name/);
  });

  it("answers any Host and any site's pages with server.allowedHosts ['*'], and still refuses the admin API", async () => {
    const gateway = await start({ server: { allowedHosts: ['*'] } });
    expect(
      (
        await send(`${gateway.url}/v1/chat/completions`, {
          body: chat,
          headers: { host: 'anything.example' },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await send(`${gateway.url}/v1/chat/completions`, {
          body: chat,
          headers: { origin: 'https://other.example' },
        })
      ).status,
    ).toBe(200);
    expect(
      (await send(`${gateway.url}/admin/providers`, { headers: { host: 'anything.example' } })).status,
    ).toBe(403);
  });

  it('takes the names from SWITCHYARD_ALLOWED_HOSTS (no config file in the Docker image), and names it when refusing', async () => {
    const gateway = await start({}, '127.0.0.1', { SWITCHYARD_ALLOWED_HOSTS: 'gateway.internal, 10.0.0.5' });
    expect(
      (
        await send(`${gateway.url}/v1/chat/completions`, {
          body: chat,
          headers: { host: 'gateway.internal:8080' },
        })
      ).status,
    ).toBe(200);
    expect(
      (await send(`${gateway.url}/v1/chat/completions`, { body: chat, headers: { host: '10.0.0.5' } }))
        .status,
    ).toBe(200);
    const refused = await send(`${gateway.url}/v1/chat/completions`, {
      body: chat,
      headers: { host: 'other.internal' },
    });
    expect(refused.status).toBe(403);
    expect(errorOf(refused.body).message).toMatch(
      /answers to localhost, 127\.0\.0\.0\/8, \[::1\], 0\.0\.0\.0, \[::\], gateway\.internal, 10\.0\.0\.5; list other names in server\.allowedHosts \(env SWITCHYARD_ALLOWED_HOSTS, comma-separated\)/,
    );
  });

  it('lets a scrape by pod IP reach /metrics when a token guards it, and only then', async () => {
    const token = 'metrics-token-open-mode-0000';
    const guarded = await start({ metrics: { token } });
    const scrape = { host: '10.1.2.3:8080', authorization: `Bearer ${token}` };
    expect((await send(`${guarded.url}/metrics`, { headers: scrape })).status).toBe(200);
    expect((await send(`${guarded.url}/metrics`, { headers: { host: '10.1.2.3:8080' } })).status).toBe(401);
    const unguarded = await start();
    expect((await send(`${unguarded.url}/metrics`, { headers: { host: '10.1.2.3:8080' } })).status).toBe(403);
    expect((await send(`${unguarded.url}/metrics`)).status).toBe(200);
  });

  it('leaves the Host alone and the admin API to the master key once keys are configured', async () => {
    const gateway = await start({ admin: { masterKey: MASTER } });
    const authorization = `Bearer ${MASTER}`;
    expect(
      (
        await send(`${gateway.url}/v1/chat/completions`, {
          body: chat,
          headers: { host: 'gateway.example.com', authorization },
        })
      ).status,
    ).toBe(200);
    expect(
      (await send(`${gateway.url}/admin/keys`, { headers: { host: 'gateway.example.com', authorization } }))
        .status,
    ).toBe(200);
    expect(
      (await send(`${gateway.url}/admin/keys`, { headers: { host: 'gateway.example.com' } })).status,
    ).toBe(401);
  });

  it('refuses to listen on a non-loopback address unless allowed, saying how to fix it', async () => {
    await expect(start({}, '0.0.0.0')).rejects.toThrow(ConfigError);
    await expect(start({}, '0.0.0.0')).rejects.toThrow(
      /without authentication.*SWITCHYARD_MASTER_KEY.*127\.0\.0\.1.*SWITCHYARD_ALLOW_OPEN=1 \(server\.allowOpen: true\)/s,
    );
    const allowed = await start({ server: { allowOpen: true } }, '0.0.0.0');
    expect((await send(`http://127.0.0.1:${new URL(allowed.url).port}/health`)).status).toBe(200);
    // the URL `switchyard start` prints in its "Try it" line gets an answer, not a 403 for its Host
    expect(allowed.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    expect((await send(`${reachableUrl(allowed.url)}/v1/chat/completions`, { body: chat })).status).toBe(200);
    // keys make it safe to expose
    await expect(
      start({ keys: [{ key: 'sk-sy-open-mode-client-000000', name: 'app' }] }, '0.0.0.0'),
    ).resolves.toBeDefined();
  });
});

describe('open-mode helpers', () => {
  it('prints 127.0.0.1 for a wildcard listen address', () => {
    expect(reachableUrl('http://0.0.0.0:8080')).toBe('http://127.0.0.1:8080');
    expect(reachableUrl('http://[::]:8080')).toBe('http://127.0.0.1:8080');
    expect(reachableUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(reachableUrl('http://[::1]:8080')).toBe('http://[::1]:8080');
  });

  it('takes SWITCHYARD_ALLOW_OPEN over the file, and refuses a value that is not a boolean', () => {
    const config: ConfigFile = { providers: [{ name: 'mock', type: 'mock' }] };
    expect(() =>
      checkOpenExposure(withServerEnv(config, { SWITCHYARD_ALLOW_OPEN: '1' }), '0.0.0.0'),
    ).not.toThrow();
    expect(() =>
      checkOpenExposure(
        withServerEnv({ ...config, server: { allowOpen: true } }, { SWITCHYARD_ALLOW_OPEN: 'false' }),
        '0.0.0.0',
      ),
    ).toThrow(ConfigError);
    expect(() => withServerEnv(config, { SWITCHYARD_ALLOW_OPEN: 'maybe' })).toThrow(
      /SWITCHYARD_ALLOW_OPEN: "maybe" is not a boolean/,
    );
  });

  it('takes SWITCHYARD_ALLOWED_HOSTS over the file, and refuses an entry with a port or scheme', () => {
    const config: ConfigFile = {
      providers: [{ name: 'mock', type: 'mock' }],
      server: { allowedHosts: ['file.internal'] },
    };
    expect(
      withServerEnv(config, { SWITCHYARD_ALLOWED_HOSTS: ' a.internal,,[fd00::1] , 10.0.0.5' }).server
        ?.allowedHosts,
    ).toEqual(['a.internal', '[fd00::1]', '10.0.0.5']);
    expect(withServerEnv(config, { SWITCHYARD_ALLOWED_HOSTS: ' ' }).server?.allowedHosts).toEqual([
      'file.internal',
    ]);
    expect(() =>
      withServerEnv(config, { SWITCHYARD_ALLOWED_HOSTS: 'a.internal,b.internal:8080,http://c' }),
    ).toThrow(/SWITCHYARD_ALLOWED_HOSTS: "b\.internal:8080", "http:\/\/c" is not a host name/);
  });
});

describe('switchyard start in open mode', { timeout: 60_000 }, () => {
  const env = { SWITCHYARD_WORKERS: '1' };
  // the working directory of the processes: the embedded defaults write ./switchyard.db there
  let cwd: string;
  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'switchyard-open-mode-'));
  });
  afterAll(() => rm(cwd, { recursive: true, force: true }));

  it('starts on loopback with no keys (npm start) and refuses HOST=0.0.0.0 with the fix', async () => {
    const local = await startGatewayProcess(['start', '--port', '0'], env, { cwd });
    processes.push(local);
    expect((await send(`${local.url}/health`)).status).toBe(200);
    await expect(
      startGatewayProcess(['start', '--port', '0'], { ...env, HOST: '0.0.0.0' }, { cwd }),
    ).rejects.toThrow(/exited \(1\).*listen address 0\.0\.0\.0.*SWITCHYARD_ALLOW_OPEN=1/s);
  });

  it('serves open on 0.0.0.0 when SWITCHYARD_ALLOW_OPEN=1', async () => {
    const open = await startGatewayProcess(
      ['start', '--port', '0'],
      { ...env, HOST: '0.0.0.0', SWITCHYARD_ALLOW_OPEN: '1', SWITCHYARD_ALLOWED_HOSTS: 'gateway.internal' },
      { cwd },
    );
    processes.push(open);
    const local = `http://127.0.0.1:${new URL(open.url).port}`;
    expect((await send(`${local}/health`)).status).toBe(200);
    expect((await send(`${local}/v1/models`, { headers: { host: 'gateway.internal' } })).status).toBe(200);
    expect((await send(`${local}/v1/models`, { headers: { host: 'other.internal' } })).status).toBe(403);
  });
});
