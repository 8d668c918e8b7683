import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Where the cluster tests look for the Redis binaries: `REDIS_BIN_DIR`, else `/usr/bin`. */
const REDIS_BIN_DIR = process.env['REDIS_BIN_DIR'] ?? '/usr/bin';
const REDIS_SERVER = join(REDIS_BIN_DIR, 'redis-server');
const REDIS_CLI = join(REDIS_BIN_DIR, 'redis-cli');

/** The cluster bus of a node listens on its port + 10000 (Redis' fixed offset). */
const BUS_OFFSET = 10_000;

/** A Redis Cluster of masters on 127.0.0.1, started for a test and owned by it. */
export interface TestRedisCluster {
  /** `redis://127.0.0.1:<port>` of every master: the startup nodes to give a client. */
  readonly nodes: readonly string[];
  /** The port of the master that holds `key`'s hash slot (hash tags honoured). */
  portOfKey(key: string): Promise<number>;
  /** Kills the node on `port` (SIGKILL), as a crashed master; resolves once it has exited. */
  kill(port: number): Promise<void>;
  /** Kills every node and removes the cluster's directory. */
  close(): Promise<void>;
}

/**
 * Whether `redis-server` and `redis-cli` are installed (for the Redis Cluster tests).
 * Missing under CI (`CI` set): throws, so the suite fails. Missing elsewhere: writes a loud
 * warning and returns false, for `describe.skipIf(!clusterable)`.
 * @example
 * const clusterable = await requireRedisCluster();
 * describe.skipIf(!clusterable)('on a Redis Cluster', () => { ... });
 */
export async function requireRedisCluster(): Promise<boolean> {
  try {
    await Promise.all([access(REDIS_SERVER, constants.X_OK), access(REDIS_CLI, constants.X_OK)]);
    return true;
  } catch {
    const message = `redis-server and redis-cli are not installed in ${REDIS_BIN_DIR} (apt-get install redis-server, or set REDIS_BIN_DIR)`;
    if (process.env['CI'] !== undefined && process.env['CI'] !== '')
      throw new Error(`${message}: the Redis Cluster tests need them under CI.`);
    process.stderr.write(`\n!!! WARNING: ${message}; SKIPPING the Redis Cluster tests. !!!\n\n`);
    return false;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port from the OS whose cluster-bus twin (port + 10000) is free as well. */
async function freeNodePort(taken: ReadonlySet<number>): Promise<number> {
  for (;;) {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const bus = port + BUS_OFFSET;
    if (bus > 65_535 || taken.has(port) || taken.has(bus)) continue;
    if ((await canListen(port)) && (await canListen(bus))) return port;
  }
}

/** Starts one node; resolves once it accepts connections, rejects if it exits first. */
function startNode(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'notice',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (data: Buffer): void => {
      output += data.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout.off('data', onData);
        child.off('exit', onExit);
        // keep the pipe drained so the node never blocks on a full stdout
        child.stdout.resume();
        resolve(child);
      }
    };
    const onExit = (code: number | null): void =>
      reject(
        new Error(
          `redis-server on port ${port} exited (${code ?? 'signal'}) before it was ready:\n${output}`,
        ),
      );
    child.stdout.on('data', onData);
    child.stderr.on('data', (data: Buffer) => {
      output += data.toString();
    });
    child.once('exit', onExit);
  });
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return stdout;
}

/** Resolves once every node reports `cluster_state:ok` (polling CLUSTER INFO), or rejects after `timeoutMs`. */
async function untilClusterOk(ports: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(ports.map((port) => cli(port, 'cluster', 'info')));
    if (states.every((info) => /^cluster_state:ok\r?$/m.test(info))) return;
    if (Date.now() > deadline)
      throw new Error(`the Redis Cluster did not reach cluster_state:ok within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts a Redis Cluster of `masters` masters (no replicas, no persistence) on free ports in a
 * temporary directory, creates it with `redis-cli --cluster create` and waits until every node
 * reports `cluster_state:ok`. Call `close()` in `afterAll`.
 * @example
 * const cluster = await startRedisCluster();
 * const client = new Cluster(cluster.nodes);
 */
export async function startRedisCluster(masters = 3, timeoutMs = 20_000): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-redis-cluster-'));
  const children = new Map<number, ChildProcess>();
  const kill = async (child: ChildProcess): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  const close = async (): Promise<void> => {
    await Promise.all([...children.values()].map(kill));
    children.clear();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    const taken = new Set<number>();
    for (let index = 0; index < masters; index += 1) {
      // a port taken by someone else between the check and the bind: pick another
      for (let attempt = 1; ; attempt += 1) {
        const port = await freeNodePort(taken);
        try {
          children.set(port, await startNode(port, dir));
          ports.push(port);
          taken.add(port).add(port + BUS_OFFSET);
          break;
        } catch (error) {
          if (attempt === 3) throw error;
        }
      }
    }
    await execFileAsync(REDIS_CLI, [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await untilClusterOk(ports, timeoutMs);
    return {
      nodes: ports.map((port) => `redis://127.0.0.1:${port}`),
      async portOfKey(key) {
        const first = ports[0] ?? 0;
        const slot = Number((await cli(first, 'cluster', 'keyslot', key)).trim());
        const shards = await cli(first, '--json', 'cluster', 'slots');
        const ranges = JSON.parse(shards) as Array<
          [number, number, [string, number, ...unknown[]], ...unknown[]]
        >;
        const range = ranges.find(([start, end]) => slot >= start && slot <= end);
        if (range === undefined) throw new Error(`no node holds slot ${slot}`);
        return range[2][1];
      },
      async kill(port) {
        const child = children.get(port);
        if (child === undefined) throw new Error(`no node of this cluster listens on ${port}`);
        await kill(child);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
