import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error';
import { interpolateEnv, startsWithReference } from './interpolate-env';
import { validateConfig } from './load-config';

const ENV = { B: 'bee', EMPTY: '', BLANK: ' ' };

function interpolate(text: string, env: NodeJS.ProcessEnv = ENV, path = '/x') {
  const problems: string[] = [];
  const substituted = new Set<string>();
  const value = interpolateEnv(text, env, problems, path, substituted);
  return { value, problems, substituted: substituted.has(path) };
}

describe('interpolateEnv', () => {
  it('reads ${VAR} and ${VAR:-default}, an empty or blank variable counting as unset', () => {
    expect(interpolate('a-${B}-z').value).toBe('a-bee-z');
    expect(interpolate('${NOPE:-x}').value).toBe('x');
    expect(interpolate('${EMPTY:-x}').value).toBe('x');
    expect(interpolate('${BLANK:-x}').value).toBe('x');
    expect(interpolate('${NOPE}').problems).toEqual(['/x: environment variable NOPE is not set']);
  });

  it('reads ${VAR-default} as a shell does: the default only when the variable is not in the environment', () => {
    expect(interpolate('${NOPE-x}').value).toBe('x');
    expect(interpolate('${EMPTY-x}').value).toBe('');
    expect(interpolate('${B-x}').value).toBe('bee');
  });

  it('refuses ${VAR:?message} with its message when the variable is unset, empty or blank, and ${VAR?message} only when unset', () => {
    expect(interpolate('${B:?required}').value).toBe('bee');
    for (const name of ['NOPE', 'EMPTY', 'BLANK'])
      expect(interpolate(`\${${name}:?set it in .env}`).problems).toEqual([
        `/x: environment variable ${name} is not set: set it in .env`,
      ]);
    expect(interpolate('${NOPE:?}').problems).toEqual(['/x: environment variable NOPE is not set']);
    expect(interpolate('${NOPE?needed}').problems).toEqual([
      '/x: environment variable NOPE is not set: needed',
    ]);
    expect(interpolate('${EMPTY?needed}')).toMatchObject({ value: '', problems: [] });
  });

  it('takes $${ as a literal ${, not as a reference', () => {
    expect(interpolate('$${B}')).toEqual({ value: '${B}', problems: [], substituted: false });
    expect(interpolate('x-$${B}-${B}').value).toBe('x-${B}-bee');
    expect(interpolate('price: $$5').value).toBe('price: $$5');
  });

  it('refuses every ${ that is no well-formed reference, naming the path, never keeping it as text', () => {
    for (const text of ['${ B }', '${B:=x}', '${}', '${1X}', 'a${B', '${B:-x', 'x ${ y']) {
      const { value, problems } = interpolate(text);
      expect(value, text).toBe('');
      expect(problems, text).toHaveLength(1);
      expect(problems[0], text).toMatch(/^\/x: a "\$\{" that is no reference: write \$\{VAR\}, /);
    }
  });

  it('refuses a nested reference in a default with a clear problem, not a literal ${B}', () => {
    expect(interpolate('${EMPTY:-${B}}')).toMatchObject({
      value: '',
      problems: ['/x: the reference to EMPTY holds another reference: nested references are not supported'],
    });
  });

  it('never puts the text of a malformed reference in a secret field into a problem', () => {
    const problems: string[] = [];
    interpolateEnv({ admin: { masterKey: '${sk live MASTER-SECRET-123}' } }, {}, problems);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^\/admin\/masterKey: /);
    expect(problems.join('\n')).not.toContain('MASTER-SECRET');
  });

  it('refuses a blank variable in a secret field whatever the operator', () => {
    for (const text of [
      '${BLANK}',
      '${BLANK:-fallbackfallback12}',
      '${BLANK-fallbackfallback12}',
      '${BLANK?m}',
    ])
      expect(interpolate(text, ENV, '/admin/masterKey').problems, text).toEqual([
        '/admin/masterKey: environment variable BLANK is set but blank: unset it or give a value',
      ]);
  });

  it('tells which strings start with a reference of any form', () => {
    for (const text of ['${A}', '${A:-x}', '${A-x}', '${A:?m}', '${A?m}'])
      expect(startsWithReference(text)).toBe(true);
    for (const text of ['$${A}', 'x${A}', '${ A }', '${A:=x}']) expect(startsWithReference(text)).toBe(false);
  });
});

describe('a config whose masterKey is ${ADMIN_MASTER_KEY:?required}', () => {
  const raw = {
    admin: { masterKey: '${ADMIN_MASTER_KEY:?required}' },
    providers: [{ name: 'mock', type: 'mock' }],
  };

  it('is refused while the variable is unset (it validated, the reference itself becoming the master key)', async () => {
    const error = await validateConfig(raw, {}, 'gateway.yaml').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      '/admin/masterKey: environment variable ADMIN_MASTER_KEY is not set: required',
    ]);
  });

  it('takes the variable when it is set', async () => {
    const key = 'sk-admin-0123456789abcdef';
    const config = await validateConfig(raw, { ADMIN_MASTER_KEY: key }, 'gateway.yaml');
    expect(config.admin?.masterKey).toBe(key);
  });
});
