// Check of the built types, run by `check-package` after the build: the declaration files hold
// what src/index.ts exports and the types those name, not the internals behind the app. A
// module augmentation of Fastify's types naming an internal type puts it, and every type it
// names, into them (requireClientKey's guard once brought in KeyPolicy, KeyLimiter, ...).
import { readFile } from 'node:fs/promises';

const INTERNAL = [
  'class KeyPolicy',
  'class KeyLimiter',
  'class SpendLedger',
  'interface ClientKeyGuard',
  'type OpenModeCheck',
];
const problems = [];
for (const file of ['dist/index.d.ts', 'dist/index.d.cts']) {
  const types = await readFile(new URL(`../${file}`, import.meta.url), 'utf8');
  for (const declaration of INTERNAL) {
    if (new RegExp(`^(declare |export )*${declaration}\\b`, 'm').test(types))
      problems.push(`${file} declares ${declaration}, which src/index.ts does not export`);
  }
}
if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('proxy-api dist types check passed\n');
