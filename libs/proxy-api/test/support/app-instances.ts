import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqlDatabase } from '@switchyard/proxy-logging';
import { TEST_DATABASE_URL } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createApp, type AppOptions } from '../../src/index';
import { dropRedisKeys } from './redis-keys';

/** The apps of a file's tests: restarts of one gateway, or instances sharing a store and Redis. */
export interface AppInstances {
  /** Creates an app from the file's defaults and `options`, ready for `inject()`; closed after the test unless stopped. */
  readonly start: (options: Partial<AppOptions>) => Promise<FastifyInstance>;
  /** Closes an app, as a shutdown does (it flushes what it keeps in memory). */
  readonly stop: (app: FastifyInstance) => Promise<void>;
  /** The test database; only when PostgreSQL is up. */
  readonly pg: SqlDatabase;
  /** A new PostgreSQL schema named `<prefix><random>`, dropped after the file. */
  readonly freshSchema: (prefix: string) => Promise<string>;
  /** A new temporary folder, removed after the file. */
  readonly tempDir: (prefix: string) => string;
  /** A Redis key prefix of this test's own, whose keys are deleted after the file. */
  readonly redisPrefix: (name: string) => string;
}

/**
 * Sets up the file's hooks: opens the test database before the tests (when `postgresUp`),
 * closes the apps after each test and, after the file, removes every schema, folder and Redis
 * key the tests made.
 */
export function useAppInstances(defaults: AppOptions, services: { postgresUp: boolean }): AppInstances {
  let apps: FastifyInstance[] = [];
  let pg: SqlDatabase | undefined;
  const schemas: string[] = [];
  const dirs: string[] = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    if (services.postgresUp) pg = await openDatabase({ url: TEST_DATABASE_URL });
  });
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
  });
  afterAll(async () => {
    for (const schema of schemas) await pg?.execute(`DROP SCHEMA ${schema} CASCADE`);
    await pg?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    if (prefixes.length > 0) await dropRedisKeys(prefixes);
  });

  const database = (): SqlDatabase => {
    if (pg === undefined)
      throw new Error('the test database is not open: skip this test when PostgreSQL is down');
    return pg;
  };

  return {
    async start(options) {
      const app = createApp({ ...defaults, ...options });
      apps.push(app);
      await app.ready();
      return app;
    },
    async stop(app) {
      apps = apps.filter((running) => running !== app);
      await app.close();
    },
    get pg() {
      return database();
    },
    async freshSchema(prefix) {
      const schema = `${prefix}${randomBytes(6).toString('hex')}`;
      await database().execute(`CREATE SCHEMA ${schema}`);
      schemas.push(schema);
      return schema;
    },
    tempDir(prefix) {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    redisPrefix(name) {
      const prefix = `t:${name}:${randomBytes(6).toString('hex')}:`;
      prefixes.push(prefix);
      return prefix;
    },
  };
}
