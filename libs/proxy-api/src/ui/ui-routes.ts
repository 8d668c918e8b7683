import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SwitchyardError } from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';
import { UI_CONTENT_SECURITY_POLICY, type UiOptions } from './ui-options';

/** `name-HASH.ext`, as the UI build names every asset but index.html. */
const HASHED = /-[A-Z0-9]{8,}\.(js|css|map)$/i;

/** Where the package build puts the UI: `dist/ui`, next to the bundle this code runs from. */
function defaultAssetsDir(): string {
  return fileURLToPath(new URL('./ui/', import.meta.url));
}

/**
 * Serves the admin UI under `/ui/`: hashed assets cached for a year (`immutable`), `index.html`
 * revalidated on every load (ETag), a strict Content-Security-Policy on everything. The page
 * holds no data; everything it shows comes from the `/admin/*` API behind the master key.
 * `required` makes missing assets an error; otherwise the UI is skipped with a warning.
 */
export async function uiRoutes(app: FastifyInstance, options: UiOptions, required: boolean): Promise<void> {
  const root = options.assetsDir ?? defaultAssetsDir();
  if (!existsSync(join(root, 'index.html'))) {
    const message = `The admin UI is not built: no index.html in ${root}.`;
    if (required)
      throw new SwitchyardError('invalid_options', `${message} Build the package, or pass ui.assetsDir.`, {
        param: 'ui.assetsDir',
      });
    app.log.warn(`${message} The UI is off.`);
    return;
  }
  // loaded only when the UI is served
  const { default: fastifyStatic } = await import('@fastify/static');
  await app.register(fastifyStatic, {
    root,
    prefix: '/ui/',
    index: 'index.html',
    wildcard: true,
    etag: true,
    lastModified: false,
    cacheControl: false,
    dotfiles: 'deny',
    schemaHide: true,
    setHeaders(reply, path) {
      void reply.headers({
        'cache-control': HASHED.test(basename(path)) ? 'public, max-age=31536000, immutable' : 'no-cache',
        'content-security-policy': UI_CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      });
    },
  });
  // a host app with `ignoreTrailingSlash` routes /ui/ here too, ahead of the static index:
  // redirected to `ui/` it went on to /ui/ui/ (a 404), so /ui/ serves the page itself
  app.get('/ui', { schema: { hide: true } }, async (request, reply) =>
    rawPath(request.url).endsWith('/') ? reply.sendFile('index.html') : reply.redirect('ui/', 308),
  );
}

/** The path of a request's URL as the client sent it, without the query. */
function rawPath(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
