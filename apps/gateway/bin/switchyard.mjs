#!/usr/bin/env node
// The `switchyard` command: runs the built CLI, dist/cli.js. It is a committed file, not dist/cli.js
// itself, because npm links no bin whose file is missing at install: in a clone, `npm ci` runs before
// any build, so a bin in dist/ was never linked, and `npx switchyard` fetched an unrelated package of
// that name from the registry instead.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'switchyard: the gateway is not built yet: run `npm run build` (or `npm start`) at the root of the repository\n',
  );
  process.exit(1);
}
await import(cli.href);
