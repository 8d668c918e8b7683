import { describe, expect, it } from 'vitest';
import { createApp, requireAdmin } from '../src/index';
import { DEMO_GATEWAY } from './support/demo-gateway';
import { sendTo, useLoopbackApps, type HostAnswer } from './support/loopback-requests';

const MASTER = 'sy-master-0123456789abcdef';
const gateway = DEMO_GATEWAY;

const { listening, track } = useLoopbackApps();

/** GET over real HTTP to 127.0.0.1 with the Host header given. */
const get = (
  port: number,
  path: string,
  host: string,
  headers: Record<string, string> = {},
): Promise<HostAnswer> => sendTo(port, 'GET', path, { host, ...headers });

describe('admin API in open mode (no keys configured)', () => {
  it('refuses a Host that is not loopback, as a page rebinding its DNS name to 127.0.0.1 sends, and says how to enable it', async () => {
    const { port } = await listening();
    const rebound = await get(port, '/admin/providers', `evil.example:${port}`);
    expect(rebound.status).toBe(403);
    expect(rebound.body.error?.code).toBe('permission_denied');
    expect(rebound.body.error?.message).toMatch(
      /^The admin API of an app with no keys \(open mode\) answers this machine only, and the Host "evil\.example:\d+" is not one of localhost, 127\.0\.0\.0\/8, \[::1\], 0\.0\.0\.0, \[::\]\. Configure admin\.masterKey .*admin\.allowedHosts\.$/,
    );
    // the same app serves /v1 to loopback Hosts only as well (open-mode-guard.test.ts)
    expect((await get(port, '/v1/models', `evil.example:${port}`)).status).toBe(403);
    expect((await get(port, '/v1/models', `localhost:${port}`)).status).toBe(200);
  });

  it('serves a loopback Host, with or without port, over a loopback connection', async () => {
    const { port } = await listening();
    for (const host of [
      `localhost:${port}`,
      'localhost',
      `127.0.0.1:${port}`,
      `127.1.2.3:${port}`,
      `[::1]:${port}`,
      'LOCALHOST.',
    ]) {
      const served = await get(port, '/admin/providers', host);
      expect({ host, status: served.status }).toEqual({ host, status: 200 });
    }
  });

  it("serves a Host of 0.0.0.0 or [::] over a loopback connection only, as this machine's names", async () => {
    const { app, port } = await listening();
    for (const host of [`0.0.0.0:${port}`, `[::]:${port}`, `127.1:${port}`]) {
      expect({ host, status: (await get(port, '/admin/providers', host)).status }).toEqual({
        host,
        status: 200,
      });
    }
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/admin/providers',
          headers: { host: '0.0.0.0' },
          remoteAddress: '203.0.113.7',
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (await get(port, '/admin/providers', `0.0.0.0:${port}`, { origin: 'https://evil.example' })).status,
    ).toBe(403);
  });

  it('matches a listed IPv6 address however the Host or the list spells it', async () => {
    const { port } = await listening({ admin: { allowedHosts: ['[fd00:0::1]'] } });
    expect((await get(port, '/admin/providers', '[fd00::1]:8080')).status).toBe(200);
    expect((await get(port, '/admin/providers', '[FD00:0:0:0:0:0:0:1]')).status).toBe(200);
  });

  it('names the master key and the list as optionNames says', async () => {
    const { port } = await listening({
      optionNames: { masterKey: 'SWITCHYARD_MASTER_KEY', adminAllowedHosts: 'admin.hosts' },
    });
    const refused = await get(port, '/admin/providers', 'evil.example');
    expect(refused.body.error?.message).toMatch(
      /\. Configure SWITCHYARD_MASTER_KEY to serve the admin API to whoever holds it, or list the Host name this client uses in admin\.hosts\.$/,
    );
  });

  it('serves a Host listed in admin.allowedHosts (any case, any port), and names the list when refusing', async () => {
    const { port } = await listening({ admin: { allowedHosts: ['gateway.internal', '[fd00::1]'] } });
    expect((await get(port, '/admin/providers', `Gateway.Internal:${port}`)).status).toBe(200);
    expect((await get(port, '/admin/providers', '[fd00::1]:8080')).status).toBe(200);
    const other = await get(port, '/admin/providers', 'other.internal');
    expect(other.status).toBe(403);
    expect(other.body.error?.message).toMatch(
      /is not one of localhost, 127\.0\.0\.0\/8, \[::1\], 0\.0\.0\.0, \[::\], gateway\.internal, \[fd00::1\]\./,
    );
  });

  it('refuses a loopback Host from another machine, unless the Host is listed', async () => {
    const { app } = await listening({ admin: { allowedHosts: ['gateway.internal'] } });
    const spoofed = await app.inject({
      method: 'GET',
      url: '/admin/providers',
      headers: { host: 'localhost' },
      remoteAddress: '203.0.113.7',
    });
    expect(spoofed.statusCode).toBe(403);
    expect(spoofed.json<{ error: { message: string } }>().error.message).toMatch(
      /answers connections from this machine only\. Configure admin\.masterKey/,
    );
    // X-Forwarded-For is the client's to write: the socket's address decides
    const forwarded = await app.inject({
      method: 'GET',
      url: '/admin/providers',
      headers: { host: 'localhost', 'x-forwarded-for': '127.0.0.1' },
      remoteAddress: '203.0.113.7',
    });
    expect(forwarded.statusCode).toBe(403);
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/admin/providers',
          headers: { host: 'gateway.internal' },
          remoteAddress: '203.0.113.7',
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/admin/providers',
          headers: { host: 'localhost' },
          remoteAddress: '::ffff:127.0.0.1',
        })
      ).statusCode,
    ).toBe(200);
  });

  it("refuses a page of another site that this machine's browser sends to a loopback address, even where CORS would let it read the answer", async () => {
    const { port } = await listening({
      cors: { origin: true },
      admin: { allowedHosts: ['gateway.internal'] },
    });
    // no rebinding needed: fetch('http://127.0.0.1:<port>/admin/requests') from any site
    const crossSite = await get(port, '/admin/providers', `127.0.0.1:${port}`, {
      origin: 'https://evil.example',
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error?.message).toMatch(
      /^The admin API of an app with no keys \(open mode\) answers this machine only, and the request comes from a page whose Origin "https:\/\/evil\.example" is not one of localhost, 127\.0\.0\.0\/8, \[::1\], 0\.0\.0\.0, \[::\], gateway\.internal\. Configure admin\.masterKey /,
    );
    // a listed Host does not let another site's page through either; nor does an opaque origin
    expect(
      (await get(port, '/admin/providers', 'gateway.internal', { origin: 'https://evil.example' })).status,
    ).toBe(403);
    expect((await get(port, '/admin/providers', `localhost:${port}`, { origin: 'null' })).status).toBe(403);
    // pages of this machine and of listed hosts, such as the admin UI, are served
    for (const origin of [
      `http://localhost:${port}`,
      `http://127.0.0.1:${port}`,
      'http://[::1]:3000',
      'https://Gateway.Internal',
    ]) {
      expect({
        origin,
        status: (await get(port, '/admin/providers', `localhost:${port}`, { origin })).status,
      }).toEqual({ origin, status: 200 });
    }
  });

  it('refuses an allowedHosts entry with a port or scheme at start', () => {
    expect(() =>
      createApp({ gateway, admin: { allowedHosts: ['gateway.internal:8080', 'http://x'] } }),
    ).toThrow(/Invalid Switchyard options:\n- \/admin\/allowedHosts\/0/);
  });
});

describe('admin API with a master key', () => {
  it('is unchanged: the master key is required whatever the Host, and allowedHosts lets nothing through without it', async () => {
    const { port } = await listening({ admin: { masterKey: MASTER, allowedHosts: ['gateway.internal'] } });
    expect((await get(port, '/admin/providers', `localhost:${port}`)).status).toBe(401);
    expect((await get(port, '/admin/providers', 'gateway.internal')).status).toBe(401);
    expect(
      (await get(port, '/admin/providers', 'evil.example', { authorization: `Bearer ${MASTER}` })).status,
    ).toBe(200);
  });
});

describe('requireAdmin on a route added to the app createApp() returns (the README example)', () => {
  it('checks the master key there as on the built-in admin routes', async () => {
    const app = track(createApp({ gateway, admin: { masterKey: MASTER } }));
    // before, the admin state lived only in the Switchyard routes' scope: this route refused every request as "disabled"
    app.get('/admin/things', { onRequest: requireAdmin }, async () => ({ ok: true }));
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(base).port);
    expect(
      (await get(port, '/admin/things', 'localhost', { authorization: `Bearer ${MASTER}` })).status,
    ).toBe(200);
    // the refusal is answered by the hook, in the body the built-in admin routes give (the app's own
    // error handler, Fastify's default, answered {statusCode, code, error, message})
    const missing = await get(port, '/admin/things', 'localhost');
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual((await get(port, '/admin/providers', 'localhost')).body);
    expect(missing.body.error).toMatchObject({
      code: 'authentication_error',
      type: 'authentication_error',
      message: 'Missing master key: send it in an Authorization: Bearer header.',
    });
    const wrong = await get(port, '/admin/things', 'localhost', { authorization: 'Bearer sy-master-wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error?.message).toBe('The master key is not valid.');
  });

  it('applies the open-mode rule there too: this machine only', async () => {
    const app = track(createApp({ gateway }));
    app.get('/admin/things', { onRequest: requireAdmin }, async () => ({ ok: true }));
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(base).port);
    expect((await get(port, '/admin/things', `localhost:${port}`)).status).toBe(200);
    const foreign = await get(port, '/admin/things', 'evil.example');
    expect(foreign.status).toBe(403);
    expect(foreign.body.error?.code).toBe('permission_denied');
  });
});
