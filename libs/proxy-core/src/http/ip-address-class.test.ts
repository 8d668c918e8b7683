import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { addressRefusal, assertAllowedTarget, type TargetPolicy } from './assert-allowed-target';
import { createGuardedLookup } from './guarded-agent';
import { classifyAddress } from './ip-address-class';

const privateNetworks: TargetPolicy = { allowHosts: ['*'], allowPrivateNetworks: true };

describe('classifyAddress: cloud metadata addresses', () => {
  it.each([
    ['GCP over IPv6', 'fd20:ce::254'],
    ['Scaleway', '169.254.42.42'],
    ['Scaleway over IPv6', 'fd00:42::42'],
    ['Tencent Cloud', '169.254.0.23'],
    ['Akamai (Linode) over IPv6', 'fd00:a9fe:a9fe::1'],
  ])('classes %s (%s) as metadata, whatever the spelling', (_cloud, address) => {
    expect(classifyAddress(address)).toBe('metadata');
    expect(classifyAddress(`[${address}]`)).toBe('metadata');
  });

  it('classes an IPv6 address that embeds a metadata IPv4 address as metadata', () => {
    expect(classifyAddress('::ffff:169.254.42.42')).toBe('metadata');
    expect(classifyAddress('::ffff:a9fe:17')).toBe('metadata');
  });

  it('leaves their neighbours in their ranges', () => {
    expect(classifyAddress('fd20:ce::253')).toBe('private');
    expect(classifyAddress('fd00:42::43')).toBe('private');
    expect(classifyAddress('169.254.42.43')).toBe('link-local');
  });
});

describe('allowPrivateNetworks never opens a cloud metadata or link-local address', () => {
  it.each([
    'fd20:ce::254',
    '169.254.42.42',
    'fd00:42::42',
    '169.254.0.23',
    'fd00:a9fe:a9fe::1',
    // where every cloud's metadata service lives, and one we do not know of yet would
    '169.254.10.10',
    // OpenStack's metadata service over IPv6
    'fe80::a9fe:a9fe',
    'fe80::1',
  ])('refuses %s', (address) => {
    expect(addressRefusal(address, privateNetworks)).toBeDefined();
    const host = address.includes(':') ? `[${address}]` : address;
    expect(() => assertAllowedTarget(`http://${host}/computeMetadata/v1/`, privateNetworks)).toThrow(
      expect.objectContaining({ code: 'target_not_allowed' }),
    );
  });

  it('still opens the private ranges themselves', () => {
    for (const address of ['10.0.0.7', '192.168.1.1', 'fd12:3456::1', '127.0.0.1'])
      expect(addressRefusal(address, privateNetworks)).toBeUndefined();
  });

  it('lets allowAddresses open one such address, as for any metadata address', () => {
    expect(
      addressRefusal('169.254.1.2', { allowHosts: ['*'], allowAddresses: ['169.254.1.2'] }),
    ).toBeUndefined();
    expect(
      addressRefusal('fd20:ce::254', { allowHosts: ['*'], allowAddresses: ['fd20:ce:0::254'] }),
    ).toBeUndefined();
  });

  it('refuses a host name that resolves to one, before connecting', async () => {
    const resolved: LookupAddress[] = [{ address: 'fd20:ce::254', family: 6 }];
    const lookup = createGuardedLookup(privateNetworks, {
      resolve: (_host, callback) => callback(null, resolved),
    });
    const error = await new Promise<unknown>((resolve) =>
      lookup('metadata.example', {}, (failure) => resolve(failure)),
    );
    expect(error).toEqual(expect.objectContaining({ code: 'target_not_allowed' }));
    expect((error as Error).message).toContain('cloud metadata address');
  });
});
