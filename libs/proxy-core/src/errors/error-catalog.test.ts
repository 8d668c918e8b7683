import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from './error-catalog';
import { SwitchyardError, toSwitchyardError } from './switchyard-error';

describe('error catalog', () => {
  it('is documented row by row in docs/errors.md', () => {
    const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Map(
      [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| `([a-z_]+)` \| (yes|no) \|/gm)].map((m) => [
        m[1],
        [Number(m[2]), m[3], m[4] === 'yes'],
      ]),
    );
    for (const [code, info] of Object.entries(ERROR_CATALOG)) {
      expect(documented.get(code), `docs/errors.md row for ${code}`).toEqual([
        info.status,
        info.type,
        info.retryable,
      ]);
    }
    expect(documented.size).toBe(Object.keys(ERROR_CATALOG).length);
  });

  it('serialises to OpenAI’s error body with no cause or stack', () => {
    const error = new SwitchyardError('upstream_error', 'boom', {
      cause: new Error('secret detail'),
      provider: 'p',
      param: 'model',
    });
    expect(error.toJSON()).toEqual({
      error: { message: 'boom', type: 'upstream_error', param: 'model', code: 'upstream_error' },
    });
    expect(JSON.stringify(error)).not.toContain('secret detail');
  });

  it('converts unknown failures at a boundary', () => {
    expect(toSwitchyardError(new Error('x')).code).toBe('internal_error');
    expect(toSwitchyardError(Object.assign(new Error('t'), { name: 'TimeoutError' })).code).toBe(
      'upstream_timeout',
    );
    expect(toSwitchyardError(Object.assign(new Error('a'), { name: 'AbortError' })).code).toBe(
      'client_closed_request',
    );
    const same = new SwitchyardError('not_found', 'n');
    expect(toSwitchyardError(same)).toBe(same);
  });
});
