import { errors as undiciErrors } from 'undici';
import { describe, expect, it } from 'vitest';
import { closedPortUrl } from '../../test/recording-server';
import { gatewayUnreachableCode } from './gateway-unreachable-code';

// a socket error as Node raises it, wrapped as `fetch` wraps it
function fetchFailed(code: string, syscall: string): TypeError {
  const cause = Object.assign(new Error(`${syscall} ${code}`), { code, syscall });
  return new TypeError('fetch failed', { cause });
}

describe('gatewayUnreachableCode', () => {
  it('reads a refused connection from a real fetch', async () => {
    const error: unknown = await fetch(await closedPortUrl()).catch((e: unknown) => e);
    expect(gatewayUnreachableCode(error)).toBe('ECONNREFUSED');
  });

  it('counts connect-phase failures: connect errors, name lookups and undici connect timeouts', () => {
    expect(gatewayUnreachableCode(fetchFailed('ETIMEDOUT', 'connect'))).toBe('ETIMEDOUT');
    expect(gatewayUnreachableCode(fetchFailed('EHOSTUNREACH', 'connect'))).toBe('EHOSTUNREACH');
    expect(gatewayUnreachableCode(fetchFailed('ENOTFOUND', 'getaddrinfo'))).toBe('ENOTFOUND');
    const timeout = new TypeError('fetch failed', { cause: new undiciErrors.ConnectTimeoutError() });
    expect(gatewayUnreachableCode(timeout)).toBe('UND_ERR_CONNECT_TIMEOUT');
    // happy eyeballs: every address failed to connect
    const all = new TypeError('fetch failed', {
      cause: new AggregateError([
        fetchFailed('ECONNREFUSED', 'connect').cause,
        fetchFailed('ENETUNREACH', 'connect').cause,
      ]),
    });
    expect(gatewayUnreachableCode(all)).toBe('ECONNREFUSED');
  });

  it('does not count a socket that timed out or failed after connecting (the gateway may have the call)', () => {
    expect(gatewayUnreachableCode(fetchFailed('ETIMEDOUT', 'read'))).toBeUndefined();
    expect(gatewayUnreachableCode(fetchFailed('EHOSTUNREACH', 'write'))).toBeUndefined();
    expect(gatewayUnreachableCode(fetchFailed('ECONNRESET', 'read'))).toBeUndefined();
    expect(gatewayUnreachableCode(new undiciErrors.SocketError('other side closed'))).toBeUndefined();
  });
});
