import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('../ui/main.ts', import.meta.url));

/** What a UI build wrote: the page and its content-hashed assets. */
export interface UiBuild {
  outDir: string;
  script: string;
  stylesheet: string;
}

/**
 * Bundles the admin UI (vanilla TypeScript + uPlot) into `outDir`: `main-HASH.js`,
 * `main-HASH.css` and an `index.html` naming them. No inline script or style, so the
 * page runs under a strict Content-Security-Policy; nothing is fetched from a CDN.
 */
export async function buildUi(outDir: string): Promise<UiBuild> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [ENTRY],
    outdir: outDir,
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    platform: 'browser',
    sourcemap: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
  const script = outputs.find((name) => name.endsWith('.js'));
  const stylesheet = outputs.find((name) => name.endsWith('.css'));
  if (script === undefined || stylesheet === undefined)
    throw new Error(`The UI build produced ${outputs.join(', ')}: expected one .js and one .css.`);
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>Switchyard</title>',
    '<link rel="icon" href="data:,">',
    `<link rel="stylesheet" href="${stylesheet}">`,
    `<script type="module" src="${script}"></script>`,
    '</head>',
    '<body><div id="app"><p class="loading">Loading…</p></div><noscript>The Switchyard admin UI needs JavaScript.</noscript></body>',
    '</html>',
    '',
  ].join('\n');
  await writeFile(join(outDir, 'index.html'), html);
  return { outDir, script, stylesheet };
}
