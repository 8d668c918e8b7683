import { connect } from 'node:net';

/** Default URLs of the shared test services. */
export const TEST_REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
export const TEST_DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

function reachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether a service a test needs is reachable (a TCP connect to the URL's host and port).
 * Unreachable under CI (`CI` set): throws, so the suite fails. Unreachable elsewhere:
 * writes a loud warning and returns false, for `describe.skipIf(!up)`.
 * @example
 * const redisUp = await requireService('Redis', TEST_REDIS_URL);
 * describe.skipIf(!redisUp)('on real Redis', () => { ... });
 */
export async function requireService(name: string, url: string, timeoutMs = 1000): Promise<boolean> {
  const parsed = new URL(url);
  const defaultPort = parsed.protocol.startsWith('redis')
    ? 6379
    : parsed.protocol.startsWith('postgres')
      ? 5432
      : 80;
  const port = parsed.port === '' ? defaultPort : Number(parsed.port);
  if (await reachable(parsed.hostname, port, timeoutMs)) return true;
  const message = `${name} is not reachable at ${parsed.hostname}:${port}`;
  if (process.env['CI'] !== undefined && process.env['CI'] !== '')
    throw new Error(`${message}: this test needs it under CI.`);
  process.stderr.write(`\n!!! WARNING: ${message}; SKIPPING the tests that need it. !!!\n\n`);
  return false;
}
