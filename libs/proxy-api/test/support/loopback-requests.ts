import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterEach } from 'vitest';
import { createApp, type AppOptions } from '../../src/index';
import { DEMO_GATEWAY } from './demo-gateway';

/** A status and a JSON body, as the Host and Origin checks answer. */
export interface HostAnswer {
  status: number;
  body: { error?: { message: string; code: string } };
}

/** Apps on the demo gateway listening on 127.0.0.1, and others a test made, closed after each test. */
export interface LoopbackApps {
  /** Starts an app listening on 127.0.0.1 with a port from the OS. */
  listening(options?: Partial<AppOptions>): Promise<{ app: FastifyInstance; port: number }>;
  /** Closes `app` after the test too. */
  track(app: FastifyInstance): FastifyInstance;
}

export function useLoopbackApps(): LoopbackApps {
  let apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
  });
  const track = (app: FastifyInstance): FastifyInstance => {
    apps.push(app);
    return app;
  };
  return {
    track,
    async listening(options = {}) {
      const app = track(createApp({ gateway: DEMO_GATEWAY, ...options }));
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      return { app, port: Number(new URL(base).port) };
    },
  };
}

/** A request over real HTTP to 127.0.0.1 with the Host and other headers given (fetch does not let a caller set Host). */
export function sendTo(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<HostAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as HostAnswer['body'],
        }),
      );
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
