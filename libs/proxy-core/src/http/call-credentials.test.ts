import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../errors/switchyard-error';
import {
  callCredentials,
  credentialSecret,
  maskCallCredentials,
  maskErrorCredentials,
} from './call-credentials';

const SECRET = 'CANARY-provider-key-0123456789';

describe('credentialSecret', () => {
  it('is the token of an authorization value, else the value, and nothing too short to mask', () => {
    expect(credentialSecret(`Bearer ${SECRET}`)).toBe(SECRET);
    expect(credentialSecret(`Token\t${SECRET}`)).toBe(SECRET);
    expect(credentialSecret(SECRET)).toBe(SECRET);
    expect(credentialSecret('Bearer short')).toBeUndefined();
    expect(credentialSecret('short')).toBeUndefined();
  });
});

describe('callCredentials', () => {
  it('lists credential headers (whole and token) and query credentials, longest first', () => {
    const found = callCredentials(
      {
        authorization: `Bearer ${SECRET}`,
        'api-key': 'azurekey0123456789',
        'content-type': 'application/json',
      },
      'https://example.test/v1?key=AIzaQueryKey0123&limit=100000000',
    );
    expect(found).toEqual([`Bearer ${SECRET}`, SECRET, 'azurekey0123456789', 'AIzaQueryKey0123']);
    expect(callCredentials({ 'x-api-key': SECRET }, 'not a url?key=abcdefghijkl')).toEqual([SECRET]);
  });

  it('masks what the call sent where a message quotes it', () => {
    expect(maskCallCredentials(`bad key ${SECRET}.`, { 'x-api-key': SECRET }, 'https://example.test/')).toBe(
      'bad key [redacted].',
    );
  });
});

describe('maskCallCredentials after redactSecrets', () => {
  it('masks the part of a key that shape-based redaction left (the message of a stream error event)', () => {
    const key = 'azure-key-canary-0123456789abcdef';
    // redactSecrets took `key-canary-...` for a key and left the `azure-` before it
    expect(
      maskCallCredentials('Key azure-[redacted] was revoked.', { 'api-key': key }, 'https://x.test/'),
    ).toBe('Key [redacted] was revoked.');
  });
});

describe('maskErrorCredentials', () => {
  it('copies an error whose message quotes a credential of the call, with every field but the message', () => {
    const error = new SwitchyardError('upstream_rate_limited', `Key ${SECRET} is over its quota`, {
      provider: 'azure',
      retryAfterMs: 2000,
      upstreamStatus: 200,
      param: 'max_tokens',
      providerCode: 'rate_limit_exceeded',
    });
    const masked = maskErrorCredentials(error, { headers: { 'api-key': SECRET }, url: 'https://x.test/' });
    expect(masked).not.toBe(error);
    expect(masked.message).toBe('Key [redacted] is over its quota');
    expect(masked.stack).not.toContain(SECRET);
    expect([masked.code, masked.status, masked.provider, masked.retryAfterMs, masked.upstreamStatus]).toEqual(
      [error.code, error.status, 'azure', 2000, 200],
    );
    expect([masked.param, masked.providerCode]).toEqual(['max_tokens', 'rate_limit_exceeded']);
  });

  it('drops a param or provider code that quotes a credential of the call, as an answered error does', () => {
    const key = 'azurekey0123456789abcdef';
    const error = new SwitchyardError('upstream_bad_request', 'Refused.', {
      param: key,
      providerCode: `bad_${key}`,
    });
    const masked = maskErrorCredentials(error, { headers: { 'api-key': key }, url: 'https://x.test/' });
    expect([masked.param, masked.providerCode, masked.message]).toEqual([undefined, undefined, 'Refused.']);
    expect(JSON.stringify(masked.toJSON())).not.toContain(key);
  });

  it('returns the same error when nothing is quoted, or when the call is unknown', () => {
    const error = new SwitchyardError('upstream_stream_error', `Key ${SECRET} failed`);
    expect(maskErrorCredentials(error, undefined)).toBe(error);
    expect(
      maskErrorCredentials(error, { headers: { 'api-key': 'other-key-000000' }, url: 'https://x.test/' }),
    ).toBe(error);
  });
});
