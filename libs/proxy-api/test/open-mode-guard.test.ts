import { describe, expect, it } from 'vitest';
import { createApp } from '../src/index';
import { DEMO_GATEWAY } from './support/demo-gateway';
import { sendTo, useLoopbackApps, type HostAnswer } from './support/loopback-requests';

const gateway = DEMO_GATEWAY;
const CHAT = JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });

const { listening, track } = useLoopbackApps();

/** A chat request a browser sends from a page of `origin` (a JSON body: after a CORS preflight, or from a rebound name). */
const chatFromPage = (port: number, origin: string, host = `127.0.0.1:${port}`): Promise<HostAnswer> =>
  sendTo(port, 'POST', '/v1/chat/completions', { host, origin, 'content-type': 'application/json' }, CHAT);

describe('open mode (no keys): /v1 and /proxy answer this machine only', () => {
  it('refuses a Host that is not loopback (DNS rebinding), and says how to serve it', async () => {
    const { port } = await listening();
    const rebound = await sendTo(port, 'GET', '/v1/models', { host: `evil.example:${port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body.error?.code).toBe('permission_denied');
    expect(rebound.body.error?.message).toBe(
      `An app with no keys (open mode) answers this machine's clients only, and the Host "evil.example:${port}" is not one of localhost, 127.0.0.0/8, [::1], 0.0.0.0, [::]: a page that rebinds its DNS name to this machine sends its own name. Configure client keys (keys, keyStore or admin.masterKey), or list the name in allowedHosts (allowedHosts: ['*'] answers any).`,
    );
    const chat = await sendTo(
      port,
      'POST',
      '/v1/chat/completions',
      { host: 'evil.example', 'content-type': 'application/json' },
      CHAT,
    );
    expect(chat.status).toBe(403);
    // the universal proxy is guarded too: it takes any body, so a page needs no preflight to reach it
    const proxied = await sendTo(
      port,
      'POST',
      '/proxy/openai/v1/chat/completions',
      { host: 'evil.example', 'content-type': 'text/plain' },
      '{}',
    );
    expect(proxied.status).toBe(403);
    expect(proxied.body.error?.message).toMatch(
      /^An app with no keys \(open mode\) answers this machine's clients only, and the Host "evil\.example"/,
    );
  });

  it('serves loopback Hosts, in any spelling, and the probes under any Host', async () => {
    const { port } = await listening();
    for (const host of [
      `localhost:${port}`,
      'localhost',
      `127.0.0.1:${port}`,
      `127.9.8.7:${port}`,
      `[::1]:${port}`,
      'LOCALHOST.',
    ]) {
      const served = await sendTo(port, 'GET', '/v1/models', { host });
      expect({ host, status: served.status }).toEqual({ host, status: 200 });
    }
    // a second request with a remembered Host takes the same answer
    expect((await sendTo(port, 'GET', '/v1/models', { host: 'localhost' })).status).toBe(200);
    expect((await sendTo(port, 'GET', '/v1/models', { host: 'evil.example' })).status).toBe(403);
    expect((await sendTo(port, 'GET', '/health', { host: 'evil.example' })).status).toBe(200);
  });

  it('refuses a page of another site (its Origin), whatever the Host, and serves pages of this machine', async () => {
    const { port } = await listening();
    const cross = await chatFromPage(port, 'https://evil.example');
    expect(cross.status).toBe(403);
    expect(cross.body.error?.message).toBe(
      `An app with no keys (open mode) serves pages of this machine only, and the Origin "https://evil.example" is not one of localhost, 127.0.0.0/8, [::1], 0.0.0.0, [::]: any site this machine's browser visits could spend its provider keys. Configure client keys (keys, keyStore or admin.masterKey), list the page's host in allowedHosts, or its origin in cors.origin.`,
    );
    // sandboxed frames and file:// pages send "null"
    expect((await chatFromPage(port, 'null')).status).toBe(403);
    const proxied = await sendTo(
      port,
      'POST',
      '/proxy/openai/v1/chat/completions',
      { host: `127.0.0.1:${port}`, origin: 'https://evil.example', 'content-type': 'text/plain' },
      '{}',
    );
    expect(proxied.status).toBe(403);
    expect((await chatFromPage(port, 'http://localhost:3000')).status).toBe(200);
    expect((await chatFromPage(port, 'http://127.0.0.1:5173')).status).toBe(200);
  });

  it('serves the Hosts and page hosts listed in allowedHosts, and the origins listed in cors.origin', async () => {
    const { port } = await listening({
      allowedHosts: ['gateway.internal', '[fd00::1]'],
      cors: { origin: ['https://app.example.com'] },
    });
    expect((await sendTo(port, 'GET', '/v1/models', { host: `Gateway.Internal:${port}` })).status).toBe(200);
    expect((await sendTo(port, 'GET', '/v1/models', { host: '[fd00::1]:8080' })).status).toBe(200);
    expect((await chatFromPage(port, 'http://gateway.internal:8080')).status).toBe(200);
    expect((await chatFromPage(port, 'https://app.example.com')).status).toBe(200);
    expect((await chatFromPage(port, 'https://app.example.com.evil.example')).status).toBe(403);
    const other = await sendTo(port, 'GET', '/v1/models', { host: 'other.internal' });
    expect(other.status).toBe(403);
    expect(other.body.error?.message).toContain(
      'is not one of localhost, 127.0.0.0/8, [::1], 0.0.0.0, [::], gateway.internal, [fd00::1]:',
    );
  });

  it('matches a listed address however the Host or the list spells it (IPv6 zeros and case, IPv4-mapped, short IPv4)', async () => {
    const { port } = await listening({
      allowedHosts: ['[fd00:0::1]', '[FD00::2]', '[::ffff:10.0.0.5]', '10.0.0.6'],
    });
    for (const host of [
      '[fd00::1]:8080',
      '[fd00:0:0:0:0:0:0:1]',
      '[fd00::2]',
      '[fd00:0::2]:8080',
      '10.0.0.5:8080',
      '[::ffff:a00:5]',
      '[::ffff:10.0.0.6]:8080',
      '10.6',
    ]) {
      expect({ host, status: (await sendTo(port, 'GET', '/v1/models', { host })).status }).toEqual({
        host,
        status: 200,
      });
    }
    expect((await chatFromPage(port, 'http://[fd00::1]:3000')).status).toBe(200);
    // the refusal lists the names in the form they are compared in
    const other = await sendTo(port, 'GET', '/v1/models', { host: '[fd00::3]' });
    expect(other.status).toBe(403);
    expect(other.body.error?.message).toContain(
      'is not one of localhost, 127.0.0.0/8, [::1], 0.0.0.0, [::], [fd00::1], [fd00::2], 10.0.0.5, 10.0.0.6:',
    );
  });

  it('reads a Host as a browser would, and refuses one it cannot read (user info that URL would take for the host)', async () => {
    const { port } = await listening();
    for (const host of [
      `127.1:${port}`,
      `0x7f.0.0.1:${port}`,
      `[::ffff:127.0.0.1]:${port}`,
      `[0:0:0:0:0:0:0:1]:${port}`,
    ]) {
      expect({ host, status: (await sendTo(port, 'GET', '/v1/models', { host })).status }).toEqual({
        host,
        status: 200,
      });
    }
    for (const host of ['evil.example@127.0.0.1', '127.0.0.1%2fevil.example', '1.2.3.4.5']) {
      expect({ host, status: (await sendTo(port, 'GET', '/v1/models', { host })).status }).toEqual({
        host,
        status: 403,
      });
    }
  });

  it("serves a Host of 0.0.0.0 or [::], which only this machine's clients connect through, and still refuses other sites' pages sent there", async () => {
    const { port } = await listening();
    for (const host of [`0.0.0.0:${port}`, '0.0.0.0', `[::]:${port}`]) {
      expect({ host, status: (await sendTo(port, 'GET', '/v1/models', { host })).status }).toEqual({
        host,
        status: 200,
      });
    }
    expect((await chatFromPage(port, 'http://0.0.0.0:3000', `0.0.0.0:${port}`)).status).toBe(200);
    // a page of another site reaching http://0.0.0.0:<port> (the "0.0.0.0 day") carries its Origin, or Sec-Fetch-Site
    const cross = await chatFromPage(port, 'https://evil.example', `0.0.0.0:${port}`);
    expect(cross.status).toBe(403);
    expect(cross.body.error?.message).toMatch(
      /^An app with no keys \(open mode\) serves pages of this machine only, and the Origin "https:\/\/evil\.example"/,
    );
    expect(
      (
        await sendTo(
          port,
          'POST',
          '/proxy/openai/v1/chat/completions',
          { host: `0.0.0.0:${port}`, origin: 'https://evil.example', 'content-type': 'text/plain' },
          '{}',
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await sendTo(port, 'GET', '/proxy/openai/v1/files', {
          host: `0.0.0.0:${port}`,
          'sec-fetch-site': 'cross-site',
        })
      ).status,
    ).toBe(403);
    // a name that resolves to 0.0.0.0 arrives as itself, as a rebound one does
    expect((await sendTo(port, 'GET', '/v1/models', { host: `zero.evil.example:${port}` })).status).toBe(403);
  });

  it('names the options as the caller says its users set them (optionNames), each left out keeping its own', async () => {
    const { port } = await listening({
      optionNames: { allowedHosts: 'server.allowedHosts', keyStore: 'admin.keyStore' },
    });
    const rebound = await sendTo(port, 'GET', '/v1/models', { host: 'evil.example' });
    expect(rebound.body.error?.message).toMatch(
      /Configure client keys \(keys, admin\.keyStore or admin\.masterKey\), or list the name in server\.allowedHosts \(server\.allowedHosts: \['\*'\] answers any\)\.$/,
    );
    const cross = await chatFromPage(port, 'https://evil.example');
    expect(cross.body.error?.message).toMatch(
      /Configure client keys \(keys, admin\.keyStore or admin\.masterKey\), list the page's host in server\.allowedHosts, or its origin in cors\.origin\.$/,
    );
    expect(() => createApp({ gateway, optionNames: { allowedHost: 'x' } as never })).toThrow(/\/optionNames/);
  });

  it("turns both checks off with allowedHosts ['*']", async () => {
    const { port } = await listening({ allowedHosts: ['*'] });
    expect((await sendTo(port, 'GET', '/v1/models', { host: 'evil.example' })).status).toBe(200);
    expect((await chatFromPage(port, 'https://evil.example', 'evil.example')).status).toBe(200);
  });

  it('checks the Host on a connection from any address: a rebound name may reach a LAN address or a Docker port mapping', async () => {
    const app = track(createApp({ gateway }));
    const bridged = await app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: { host: 'evil.example' },
      remoteAddress: '172.17.0.1',
    });
    expect(bridged.statusCode).toBe(403);
    const local = await app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: { host: 'evil.example' },
      remoteAddress: '::ffff:127.0.0.1',
    });
    expect(local.statusCode).toBe(403);
    const named = await app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: { host: 'localhost:8080' },
      remoteAddress: '172.17.0.1',
    });
    expect(named.statusCode).toBe(200);
    // a page's Origin is checked on any connection too
    const page = await app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: { host: 'localhost', origin: 'https://evil.example' },
      remoteAddress: '10.1.2.3',
    });
    expect(page.statusCode).toBe(403);
  });

  it('refuses a GET a page of another site sends without an Origin (an image, a link): its Sec-Fetch-Site says cross-site', async () => {
    const { port } = await listening();
    const image = await sendTo(port, 'GET', '/proxy/openai/v1/files', {
      host: `127.0.0.1:${port}`,
      'sec-fetch-site': 'cross-site',
    });
    expect(image.status).toBe(403);
    expect(image.body.error?.message).toMatch(
      /^An app with no keys \(open mode\) serves pages of this machine only, and a page of another site \(Sec-Fetch-Site: cross-site\) is not one of/,
    );
    // typed in the address bar, or from a page of this machine's other port
    expect(
      (await sendTo(port, 'GET', '/v1/models', { host: `127.0.0.1:${port}`, 'sec-fetch-site': 'none' }))
        .status,
    ).toBe(200);
    expect(
      (await sendTo(port, 'GET', '/v1/models', { host: `127.0.0.1:${port}`, 'sec-fetch-site': 'same-site' }))
        .status,
    ).toBe(200);
  });

  it('does not take cors.origin: true (reflect any origin) as a list of allowed pages', async () => {
    const { port } = await listening({ cors: { origin: true } });
    expect((await chatFromPage(port, 'https://evil.example')).status).toBe(403);
  });

  it('checks neither once client keys are configured: the key is the guard', async () => {
    const { port } = await listening({ keys: [{ name: 'k', key: 'sk-sy-static-0123456789abcdef' }] });
    const keyed = await sendTo(port, 'GET', '/v1/models', {
      host: 'evil.example',
      origin: 'https://evil.example',
      authorization: 'Bearer sk-sy-static-0123456789abcdef',
    });
    expect(keyed.status).toBe(200);
  });

  it('refuses a malformed allowedHosts entry at start', () => {
    expect(() => createApp({ gateway, allowedHosts: ['gateway.internal:8080'] })).toThrow(/allowedHosts/);
  });

  it('refuses at start an allowedHosts entry no Host can match: not an address, user info, non-ASCII', () => {
    expect(() =>
      createApp({
        gateway,
        allowedHosts: ['gateway.internal', '1.2.3.4.5', 'a@gateway.internal', 'bücher.example', '[1::2::3]'],
      }),
    ).toThrow(
      /^Invalid Switchyard options:\n- \/allowedHosts\/1: "1\.2\.3\.4\.5" is not a host name .*\n- \/allowedHosts\/2: .*\n- \/allowedHosts\/3: "bücher\.example" is not a host name \(an ASCII name, in its xn-- form .*\n- \/allowedHosts\/4: /,
    );
    expect(() => createApp({ gateway, admin: { allowedHosts: ['256.0.0.1'] } })).toThrow(
      /\/admin\/allowedHosts\/0: "256\.0\.0\.1" is not a host name/,
    );
  });
});
