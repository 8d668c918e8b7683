import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { configFieldRow, configFields, renderConfigReference, type ConfigField } from './config-fields';
import { ConfigFileSchema } from './config-schema';

const DOC = new URL('../../../../docs/configuration.md', import.meta.url);

function field(path: string): ConfigField {
  const found = configFields(ConfigFileSchema).find((candidate) => candidate.path === path);
  if (found === undefined) throw new Error(`no field ${path}`);
  return found;
}

describe('docs/configuration.md', () => {
  it('documents every field of the config schema', () => {
    const doc = readFileSync(DOC, 'utf8');
    const missing = configFields(ConfigFileSchema).filter(
      (candidate) => !doc.includes(`| \`${candidate.path}\` |`),
    );
    expect(missing.map((candidate) => candidate.path)).toEqual([]);
  });

  it('holds the field tables as generated from the schema (npm run docs:config)', () => {
    const doc = readFileSync(DOC, 'utf8');
    expect(
      renderConfigReference(doc, configFields(ConfigFileSchema)),
      'run `npm run docs:config` to regenerate',
    ).toBe(doc);
  });

  it('shows a field required inside its section or list entry as required there', () => {
    const doc = readFileSync(DOC, 'utf8');
    expect(doc).toContain('| `cors.origin` | true \\| list of string min length 1 | yes (in `cors`) |');
    expect(doc).toContain(
      '| `keys[].key` | string min length 20 max length 200 matching `^sk-sy-[A-Za-z0-9_-]+$` | yes, in each `keys[]` entry |',
    );
    expect(doc).toContain(
      '| `models[].targets` | list of at least 1 object | yes, in each `models[]` entry |',
    );
  });
});

describe('configFields', () => {
  it('walks nested sections and list items', () => {
    const paths = configFields(ConfigFileSchema).map((candidate) => candidate.path);
    expect(paths).toContain('server.port');
    expect(paths).toContain('models[].targets[].provider');
  });

  it('marks a field the schema requires in an optional section as required in that section', () => {
    expect(field('cors.origin')).toMatchObject({ required: true, within: 'cors' });
    expect(field('memory.budgetBytes')).toMatchObject({ required: true, within: 'memory' });
    expect(field('admin.keyStore.url')).toMatchObject({ required: true, within: 'admin.keyStore' });
    expect(field('keys[].budget.usd')).toMatchObject({ required: true, within: 'keys[].budget' });
    expect(field('redis.cluster.nodes')).toMatchObject({ required: true, within: 'redis.cluster' });
    expect(field('limiter.redis.cluster.nodes')).toMatchObject({
      required: true,
      within: 'limiter.redis.cluster',
    });
    expect(field('condenser.summary.model')).toMatchObject({ required: true, within: 'condenser.summary' });
    expect(field('cors.credentials')).toMatchObject({ required: false });
  });

  it('marks a field the schema requires in each list entry as required in each entry', () => {
    expect(field('keys[].key')).toMatchObject({ required: true, within: 'keys[]' });
    expect(field('keys[].name')).toMatchObject({ required: true, within: 'keys[]' });
    expect(field('models[].name')).toMatchObject({ required: true, within: 'models[]' });
    expect(field('models[].targets[].provider')).toMatchObject({
      required: true,
      within: 'models[].targets[]',
    });
    expect(field('models[].targets[].model')).toMatchObject({ required: true, within: 'models[].targets[]' });
    expect(field('keys[].owner')).toMatchObject({ required: false });
  });

  it('lists a list of objects itself, before its entries fields', () => {
    const paths = configFields(ConfigFileSchema).map((candidate) => candidate.path);
    expect(paths.indexOf('models[].targets')).toBeGreaterThan(paths.indexOf('models[].name'));
    expect(paths.indexOf('models[].targets')).toBeLessThan(paths.indexOf('models[].targets[].provider'));
    expect(field('models[].targets')).toEqual({
      path: 'models[].targets',
      type: 'list of at least 1 object',
      required: true,
      within: 'models[]',
    });
    expect(field('providers')).toEqual({
      path: 'providers',
      type: 'list of objects',
      required: true,
      within: '',
    });
  });

  it('hangs the required fields of a required section on the enclosing optional one', () => {
    const schema = Type.Object({
      outer: Type.Optional(
        Type.Object({ inner: Type.Object({ must: Type.String(), may: Type.Optional(Type.String()) }) }),
      ),
      top: Type.Object({ must: Type.Boolean() }),
    });
    expect(configFields(schema).map(configFieldRow)).toEqual([
      '| `outer.inner.must` | string | yes (in `outer`) |',
      '| `outer.inner.may` | string | no |',
      '| `top.must` | boolean | yes |',
    ]);
  });

  it('describes the limits the schema enforces on strings and lists', () => {
    expect(field('keys[].name').type).toBe('string min length 1 max length 100 matching `^[A-Za-z0-9._-]+$`');
    expect(field('keys[].customerId').type).toBe('string min length 1 max length 200');
    expect(field('keys[].owner').type).toBe('string min length 1 max length 200');
    expect(field('cache.namespace').type).toBe('string min length 1 max length 200');
    expect(field('redis.cluster.nodes').type).toBe('list of at least 1 string matching `^rediss?://`');
    expect(field('server.allowedHosts').type).toBe(
      'list of string min length 1 matching `^[^\\s:/]+$|^\\[[0-9A-Fa-f:.]+\\]$`',
    );
    expect(field('limits.shadow').type).toBe('list of ("rpm" | "tpm" | "parallel" | "budget")');
    expect(field('proxy.routes').type).toBe(
      'object, names matching `^[a-z0-9][a-z0-9_-]*$`, each value string matching `^https?://`',
    );
  });

  it('escapes | in a table row', () => {
    expect(configFieldRow(field('limits.shadow'))).toBe(
      '| `limits.shadow` | list of ("rpm" \\| "tpm" \\| "parallel" \\| "budget") | no |',
    );
  });
});

describe('renderConfigReference', () => {
  const fields = configFields(
    Type.Object({ a: Type.Optional(Type.Object({ x: Type.Integer({ minimum: 1 }) })) }),
  );

  it('rewrites the rows of each section table and keeps the prose around it', () => {
    const doc = [
      '# Reference',
      '',
      '### `a`',
      '',
      '| field | type | required |',
      '|---|---|---|',
      '| `a.old` | string | no |',
      '',
      'Prose.',
      '',
    ].join('\n');
    expect(renderConfigReference(doc, fields)).toBe(
      [
        '# Reference',
        '',
        '### `a`',
        '',
        '| field | type | required |',
        '|---|---|---|',
        '| `a.x` | integer >= 1 | yes (in `a`) |',
        '',
        'Prose.',
        '',
      ].join('\n'),
    );
  });

  it('refuses a section without its heading and table', () => {
    expect(() => renderConfigReference('# Reference\n\n### `b`\n', fields)).toThrow('no "### `a`" heading');
    expect(() =>
      renderConfigReference(
        '### `a`\n\nProse.\n\n### `b`\n\n| field | type | required |\n|---|---|---|\n',
        fields,
      ),
    ).toThrow('no "### `a`" heading');
  });
});
