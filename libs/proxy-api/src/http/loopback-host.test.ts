import { describe, expect, it } from 'vitest';
import { HOST_NAME_PATTERN, hostNameOf, isLoopbackAddress } from './loopback-host';

describe('loopback hosts', () => {
  it('tells loopback addresses and names from the others', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '[::FFFF:127.0.0.2]', '::ffff:7f00:1']) {
      expect({ host, loopback: isLoopbackAddress(host) }).toEqual({ host, loopback: true });
    }
    for (const host of ['', '0.0.0.0', '::', '10.0.0.5', '192.168.1.2', '128.0.0.1', 'gateway.internal', '127.0.0.1.example.com', 'localhost.example.com', '::ffff:10.0.0.1']) {
      expect({ host, loopback: isLoopbackAddress(host) }).toEqual({ host, loopback: false });
    }
  });

  it('takes the host name out of a Host header', () => {
    expect(hostNameOf('LocalHost:8080')).toBe('localhost');
    expect(hostNameOf('[::1]:8080')).toBe('[::1]');
    expect(hostNameOf('example.com.')).toBe('example.com');
  });

  it('accepts a configured name without port, scheme or path, and an IPv6 address only in brackets', () => {
    const pattern = new RegExp(HOST_NAME_PATTERN);
    expect(['gateway.internal', '10.0.0.5', '[fd00::1]'].filter((name) => pattern.test(name))).toHaveLength(3);
    expect(['gateway.internal:8080', 'http://x', 'a/b', 'fd00::1', 'a b'].filter((name) => pattern.test(name))).toEqual([]);
  });
});
