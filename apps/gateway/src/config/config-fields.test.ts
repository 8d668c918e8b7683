import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configFields } from './config-fields';
import { ConfigFileSchema } from './config-schema';

describe('docs/configuration.md', () => {
  it('documents every field of the config schema', () => {
    const doc = readFileSync(new URL('../../../../docs/configuration.md', import.meta.url), 'utf8');
    const missing = configFields(ConfigFileSchema).filter((field) => !doc.includes(`| \`${field.path}\` |`));
    expect(missing.map((field) => field.path)).toEqual([]);
  });

  it('walks nested sections and list items', () => {
    const paths = configFields(ConfigFileSchema).map((field) => field.path);
    expect(paths).toContain('server.port');
    expect(paths).toContain('models[].targets[].provider');
  });
});
