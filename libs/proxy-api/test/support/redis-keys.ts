import { TEST_REDIS_URL } from '@switchyard/testing';
import { Redis } from 'ioredis';

/** Deletes the keys a test wrote under each prefix on the shared test Redis, so runs leave nothing behind. */
export async function dropRedisKeys(prefixes: Iterable<string>, url: string = TEST_REDIS_URL): Promise<void> {
  const cleaner = new Redis(url);
  try {
    for (const prefix of prefixes) {
      const keys = await cleaner.keys(`${prefix}*`);
      if (keys.length > 0) await cleaner.del(...keys);
    }
  } finally {
    cleaner.disconnect();
  }
}
