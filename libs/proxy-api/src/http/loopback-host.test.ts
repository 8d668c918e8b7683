import { describe, expect, it } from 'vitest';
import {
  HOST_NAME_PATTERN,
  hostNameOf,
  hostNameProblems,
  isHostName,
  isLocalHostName,
  isLocalOrigin,
  isLoopbackAddress,
  localHostMatcher,
  localHostNames,
} from './loopback-host';

describe('loopback hosts', () => {
  it('tells loopback addresses and names from the others', () => {
    for (const host of [
      '127.0.0.1',
      '127.1.2.3',
      'localhost',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      '[::FFFF:127.0.0.2]',
      '::ffff:7f00:1',
    ]) {
      expect({ host, loopback: isLoopbackAddress(host) }).toEqual({ host, loopback: true });
    }
    for (const host of [
      '',
      '0.0.0.0',
      '::',
      '10.0.0.5',
      '192.168.1.2',
      '128.0.0.1',
      'gateway.internal',
      '127.0.0.1.example.com',
      'localhost.example.com',
      '::ffff:10.0.0.1',
    ]) {
      expect({ host, loopback: isLoopbackAddress(host) }).toEqual({ host, loopback: false });
    }
  });

  it('takes the host name out of a Host header', () => {
    expect(hostNameOf('LocalHost:8080')).toBe('localhost');
    expect(hostNameOf('[::1]:8080')).toBe('[::1]');
    expect(hostNameOf('example.com.')).toBe('example.com');
  });

  it('gives every spelling of an address one canonical form, so a listed address matches however the Host writes it', () => {
    const same = (spellings: string[]): void => {
      const names = new Set(spellings.map(hostNameOf));
      expect({ spellings, names: [...names] }).toEqual({
        spellings,
        names: [hostNameOf(spellings[0] ?? '')],
      });
      // and a name: every spelling unreadable ('') would pass the line above
      expect([...names], spellings.join(' ')).not.toContain('');
    };
    same([
      '[fd00::1]',
      '[fd00:0::1]:8080',
      '[FD00:0000:0000:0000:0000:0000:0000:0001]',
      '[fd00:0:0:0:0:0:0:1]',
    ]);
    same(['10.0.0.5', '[::ffff:10.0.0.5]', '[::FFFF:a00:5]:8080', '[0:0:0:0:0:ffff:0a00:0005]']);
    // what WHATWG URL (a browser) and inet_aton (curl) read as 127.0.0.1
    same(['127.0.0.1', '127.1', '0x7f.1', '0177.0.0.1', '2130706433:8080', '127.0.0.1.']);
    expect(hostNameOf('[FD00:0::1]:8080')).toBe('[fd00::1]');
    expect(hostNameOf('[::ffff:127.0.0.1]')).toBe('127.0.0.1');
    const listed = new Set(['[fd00:0::1]', '[::ffff:10.0.0.5]'].map(hostNameOf));
    expect(
      ['[fd00::1]:8080', '10.0.0.5', '[::ffff:a00:5]'].map((host) =>
        isLocalHostName(hostNameOf(host), listed),
      ),
    ).toEqual([true, true, true]);
    expect(isLocalOrigin('http://[fd00:0:0::1]:3000', listed)).toBe(true);
  });

  it('reads nothing it cannot canonicalise as a host name: user info, paths, percent-encoding, non-ASCII, bad addresses', () => {
    // URL would read "evil.example@127.0.0.1" as 127.0.0.1: a Host check must not
    for (const header of [
      'evil.example@127.0.0.1',
      '127.0.0.1/evil',
      'evil.example#127.0.0.1',
      'localhost%2eevil',
      'lоcalhost',
      '1.2.3.4.5',
      '256.0.0.1',
      'evil.0x7f',
      '[1::2::3]',
      '[fe80::1%25eth0]',
      '[::1',
      'a b',
      '',
    ]) {
      expect({ header, name: hostNameOf(header) }).toEqual({ header, name: '' });
    }
    expect(isLocalHostName(hostNameOf('evil.example@127.0.0.1'), undefined)).toBe(false);
  });

  it("takes the unspecified addresses, which reach this machine only, for this machine's names, and nothing else near them", () => {
    for (const host of ['0.0.0.0', '0.0.0.0:8080', '0', '[::]:8080', '[0:0::0]', '[::ffff:0.0.0.0]']) {
      expect({ host, local: isLocalHostName(hostNameOf(host), undefined) }).toEqual({ host, local: true });
    }
    for (const host of ['0.0.0.1', '0.1.0.0', '[::2]', '0.0.0.0.evil.example']) {
      expect({ host, local: isLocalHostName(hostNameOf(host), undefined) }).toEqual({ host, local: false });
    }
    // where the app listens is another question: 0.0.0.0 there reaches every interface
    expect(isLoopbackAddress('0.0.0.0')).toBe(false);
  });

  it('lists in refusals every name it takes for this machine, the unspecified addresses included, then the listed ones', () => {
    expect(localHostNames()).toBe('localhost, 127.0.0.0/8, [::1], 0.0.0.0, [::]');
    expect(localHostNames(['gateway.internal'])).toBe(
      'localhost, 127.0.0.0/8, [::1], 0.0.0.0, [::], gateway.internal',
    );
    const named = localHostNames()
      .split(', ')
      .filter((name) => name !== '127.0.0.0/8');
    expect(named.filter((name) => !isLocalHostName(hostNameOf(name), undefined))).toEqual([]);
  });

  it('tells configured names a Host can match from the others, and lists those of the right shape as problems', () => {
    expect(
      ['gateway.internal', '10.0.0.5', '[fd00::1]', 'xn--bcher-kva.example'].filter(isHostName),
    ).toHaveLength(4);
    expect(
      ['gateway.internal:8080', 'fd00::1', '1.2.3.4.5', 'a@b', 'bücher.example', ''].filter(isHostName),
    ).toEqual([]);
    // a name of the wrong shape is the schema's to report, not listed again
    expect(
      hostNameProblems(['gateway.internal', '1.2.3.4.5', 'a:1', 7, 'bücher.example'], '/allowedHosts'),
    ).toEqual([
      '/allowedHosts/1: "1.2.3.4.5" is not a host name (an ASCII name, in its xn-- form if it has other letters, an IPv4 address, or an IPv6 address in brackets)',
      '/allowedHosts/4: "bücher.example" is not a host name (an ASCII name, in its xn-- form if it has other letters, an IPv4 address, or an IPv6 address in brackets)',
    ]);
    expect(hostNameProblems(undefined, '/allowedHosts')).toEqual([]);
  });

  it('matches Host headers against local and listed names, the same answer for a header it remembers', () => {
    const isLocalHost = localHostMatcher(new Set([hostNameOf('[fd00:0::1]')]));
    for (let round = 0; round < 2; round++) {
      expect(['localhost:8080', '127.0.0.1', '0.0.0.0:80', '[fd00::1]:8080'].map(isLocalHost)).toEqual([
        true,
        true,
        true,
        true,
      ]);
      expect(['evil.example', '', 'evil.example@127.0.0.1', '[fd00::2]'].map(isLocalHost)).toEqual([
        false,
        false,
        false,
        false,
      ]);
    }
    expect(localHostMatcher(undefined)('gateway.internal')).toBe(false);
  });

  it('accepts a configured name without port, scheme or path, and an IPv6 address only in brackets', () => {
    const pattern = new RegExp(HOST_NAME_PATTERN);
    expect(['gateway.internal', '10.0.0.5', '[fd00::1]'].filter((name) => pattern.test(name))).toHaveLength(
      3,
    );
    expect(
      ['gateway.internal:8080', 'http://x', 'a/b', 'fd00::1', 'a b'].filter((name) => pattern.test(name)),
    ).toEqual([]);
  });
});
