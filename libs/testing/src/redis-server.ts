import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** A redis-server of a test's own (see {@link startRedisServer}). */
export interface TestRedisServer {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** Kills the server (SIGKILL, as a crash) and resolves once it has exited. */
  stop(): Promise<void>;
}

/** A free TCP port of 127.0.0.1, from the OS. */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Starts a redis-server of the test's own on 127.0.0.1 (on `port`, else a free one), keeping
 * nothing on disk, for a test that pauses, kills or restarts Redis: the machine's shared Redis
 * serves every other test at the same time. Resolves once it accepts connections.
 */
export async function startRedisServer(port?: number): Promise<TestRedisServer> {
  if (port !== undefined) return startRedisServerOn(port);
  // the free port is closed before redis-server binds it: another process may take it in
  // between, and then a second free one is tried
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRedisServerOn(await freeTcpPort());
    } catch (error) {
      if (attempt === 3 || !String(error).includes('Address already in use')) throw error;
    }
  }
}

async function startRedisServerOn(listen: number): Promise<TestRedisServer> {
  const child = spawn(
    'redis-server',
    ['--port', String(listen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${String(code)}): ${output}`)));
  });
  return {
    url: `redis://127.0.0.1:${listen}`,
    port: listen,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
