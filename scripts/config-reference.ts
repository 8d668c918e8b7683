// `npm run docs:config`: rewrites the field tables of docs/configuration.md ("Every field") from the
// schema the gateway validates against; the prose between them is kept. config-fields.test.ts fails
// while the doc differs from what this writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { configFields, renderConfigReference } from '../apps/gateway/src/config/config-fields';
import { ConfigFileSchema } from '../apps/gateway/src/config/config-schema';

const DOC = new URL('../docs/configuration.md', import.meta.url);
const before = readFileSync(DOC, 'utf8');
const after = renderConfigReference(before, configFields(ConfigFileSchema));
if (after === before) {
  process.stdout.write('docs/configuration.md is up to date\n');
} else {
  writeFileSync(DOC, after);
  process.stdout.write('docs/configuration.md: field tables regenerated\n');
}
