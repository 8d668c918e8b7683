import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUi, type UiBuild } from '../../scripts/build-ui';
import { createApp } from '../create-app';
import { switchyardRoutes } from '../switchyard-routes';
import { UI_CONTENT_SECURITY_POLICY } from './ui-options';

const MASTER = 'sk-sy-master-key-for-ui-route-tests-00';
const gateway = { providers: [{ name: 'mock', type: 'mock' as const }] };

let build: UiBuild;
let app: FastifyInstance;

beforeAll(async () => {
  build = await buildUi(await mkdtemp(join(tmpdir(), 'switchyard-ui-routes-')));
  app = createApp({ gateway, admin: { masterKey: MASTER }, ui: { assetsDir: build.outDir } });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await rm(build.outDir, { recursive: true, force: true });
});

describe('admin UI routes', () => {
  it('redirects /ui to /ui/ and serves the page revalidated by ETag under a strict CSP', async () => {
    const redirect = await app.inject({ url: '/ui' });
    expect(redirect.statusCode).toBe(308);
    expect(redirect.headers.location).toBe('ui/');

    const page = await app.inject({ url: '/ui/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain(`src="${build.script}"`);
    expect(page.body).toContain(`href="${build.stylesheet}"`);
    // no inline script or style: every script has a src, no <style> and no style= attribute
    expect(page.body.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
    expect(page.body).not.toMatch(/<style|\sstyle=/);

    const etag = page.headers.etag;
    expect(typeof etag).toBe('string');
    const again = await app.inject({ url: '/ui/', headers: { 'if-none-match': String(etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('serves the page at /ui/ in a host app that ignores trailing slashes, where the /ui route matches /ui/ too', async () => {
    const host = Fastify({ routerOptions: { ignoreTrailingSlash: true } });
    try {
      const options = { gateway, admin: { masterKey: MASTER }, ui: { assetsDir: build.outDir } };
      await host.register(switchyardRoutes, options);
      await host.register(switchyardRoutes, { ...options, prefix: '/gateway' });
      for (const root of ['', '/gateway']) {
        // it redirected /ui/ to ui/ (/ui/ui/: a 404), so the UI could not be reached at all
        const page = await host.inject({ url: `${root}/ui/` });
        expect(page.statusCode).toBe(200);
        expect(page.headers['content-type']).toMatch(/^text\/html/);
        expect(page.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
        expect(page.headers['cache-control']).toBe('no-cache');
        expect(page.body).toContain(`src="${build.script}"`);
        const again = await host.inject({
          url: `${root}/ui/`,
          headers: { 'if-none-match': String(page.headers.etag) },
        });
        expect(again.statusCode).toBe(304);

        const redirect = await host.inject({ url: `${root}/ui?from=bookmark` });
        expect(redirect.statusCode).toBe(308);
        expect(redirect.headers.location).toBe('ui/');
        expect((await host.inject({ url: `${root}/ui/${build.script}` })).statusCode).toBe(200);
      }
    } finally {
      await host.close();
    }
  });

  it('serves content-hashed assets as immutable for a year', async () => {
    for (const [name, type] of [
      [build.script, /javascript/],
      [build.stylesheet, /text\/css/],
    ] as const) {
      const asset = await app.inject({ url: `/ui/${name}` });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['content-type']).toMatch(type);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    }
    expect(build.script).toMatch(/^main-[A-Z0-9]{8,}\.js$/);
  });

  it('answers an unknown asset with the usual JSON 404 and never lists or escapes the folder', async () => {
    for (const url of ['/ui/nope.js', '/ui/../package.json', '/ui/%2e%2e/package.json']) {
      const response = await app.inject({ url });
      expect(response.statusCode).toBe(404);
    }
    expect((await app.inject({ url: '/ui/nope.js' })).json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('is off without a master key, and missing assets fail start-up only when the UI was asked for', async () => {
    const noAdmin = createApp({ gateway, ui: undefined });
    expect((await noAdmin.inject({ url: '/ui/' })).statusCode).toBe(404);
    await noAdmin.close();

    const optedOut = createApp({ gateway, admin: { masterKey: MASTER }, ui: false });
    expect((await optedOut.inject({ url: '/ui/' })).statusCode).toBe(404);
    await optedOut.close();

    const missing = createApp({
      gateway,
      admin: { masterKey: MASTER },
      ui: { assetsDir: join(build.outDir, 'absent') },
    });
    await expect(missing.ready()).rejects.toMatchObject({ code: 'invalid_options' });
    await missing.close();
  });
});
