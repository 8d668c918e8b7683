import { describe, expect, it } from 'vitest';
import { callCredentials, credentialSecret, maskCallCredentials } from './call-credentials';

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
