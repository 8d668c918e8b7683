import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// What Fastify and Node answer before any route runs, over a real connection: every refusal in
// the gateway's error shape, `{"error":{"message","type","param","code"}}`.

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map(async (app) => app.close()));
});

async function listen(): Promise<{ app: FastifyInstance; port: number }> {
  const app = createApp({ gateway: { providers: [{ name: 'mock', type: 'mock' }] } });
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, port: (app.server.address() as { port: number }).port };
}

/** Sends raw bytes and reads until the server closes the connection. */
async function raw(port: number, text: string): Promise<{ status: number; headers: string; body: unknown }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.on('error', () => undefined);
  socket.write(text);
  await once(socket, 'close');
  return parse(received);
}

function parse(received: string): { status: number; headers: string; body: unknown } {
  const [head = '', body = ''] = received.split('\r\n\r\n');
  return {
    status: Number(head.split(' ')[1]),
    headers: head.toLowerCase(),
    body: JSON.parse(body) as unknown,
  };
}

describe('refusals made before any route', () => {
  it('answers a URL that cannot be decoded with 400 invalid_request', async () => {
    const { port } = await listen();
    const reply = await raw(port, 'GET /v1/%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_request' } });
  });

  it('answers a request the HTTP parser refuses with 400 invalid_request, and closes the connection', async () => {
    const { port } = await listen();
    const reply = await raw(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(reply.status).toBe(400);
    expect(reply.headers).toContain('connection: close');
    expect(reply.body).toEqual({
      error: {
        message: 'The request is not valid HTTP.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_request',
      },
    });
  });

  it('answers headers past the limit with 431 request_too_large', async () => {
    const { port } = await listen();
    const reply = await raw(
      port,
      `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
    );
    expect(reply.status).toBe(431);
    expect(reply.body).toMatchObject({ error: { code: 'request_too_large' } });
  });

  it('answers a request head that does not arrive in time with 408 request_timeout', async () => {
    const app = createApp({
      gateway: { providers: [{ name: 'mock', type: 'mock' }] },
      requestTimeoutMs: 500,
      headersTimeoutMs: 300,
    });
    apps.push(app);
    await app.listen({ port: 0, host: '127.0.0.1' });
    // the head starts and never ends: Node's headers timeout refuses it
    const reply = await raw(
      (app.server.address() as { port: number }).port,
      'GET /health HTTP/1.1\r\nHost: 1',
    );
    expect(reply.status).toBe(408);
    expect(reply.body).toMatchObject({ error: { code: 'request_timeout' } });
  });

  it('answers a request arriving while the app closes with 503 overloaded, Retry-After and Connection: close', async () => {
    const app = createApp({ gateway: { providers: [{ name: 'mock', type: 'mock' }] } });
    apps.push(app);
    // a keep-alive connection the client uses again once the close began (before the listener
    // and its idle connections close, after the preClose hooks): its request is answered then
    let late: Promise<{ status: number; headers: string; body: unknown }> | undefined;
    const held: { socket?: Socket } = {};
    app.addHook('preClose', async () => {
      const open = held.socket as Socket;
      let received = '';
      open.on('data', (chunk: Buffer) => (received += chunk.toString()));
      open.write('GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      late = once(open, 'close').then(() => parse(received));
      await late;
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const socket = connect((app.server.address() as { port: number }).port, '127.0.0.1');
    held.socket = socket;
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    // a request answered on it first: a connection that never sent one is closed with the listener
    let first = '';
    const answered = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer): void => {
        first += chunk.toString();
        const length = /\r\ncontent-length: (\d+)/i.exec(first);
        const head = first.indexOf('\r\n\r\n');
        if (length === null || head < 0 || first.length < head + 4 + Number(length[1])) return;
        socket.off('data', onData);
        resolve();
      };
      socket.on('data', onData);
    });
    socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await answered;
    expect(parse(first).status).toBe(200);
    await app.close();
    const reply = await (late as Promise<{ status: number; headers: string; body: unknown }>);
    expect(reply.status).toBe(503);
    expect(reply.headers).toContain('connection: close');
    expect(reply.headers).toContain('retry-after: 1');
    expect(reply.body).toMatchObject({ error: { code: 'overloaded', type: 'server_error' } });
  });
});
