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

/** A Redis Cluster on 127.0.0.1, started for a test and owned by it. */
export interface TestRedisCluster {
  /** `redis://127.0.0.1:<port>` of every master at start: the startup nodes to give a client. */
  readonly nodes: readonly string[];
  /** The port of the master that holds `key`'s hash slot (hash tags honoured), as a live node sees it. */
  portOfKey(key: string): Promise<number>;
  /** The ports of the replicas of the master on `port`, as created (empty without replicas). */
  replicasOf(port: number): readonly number[];
  /**
   * Resolves once every replica of the master on `port` has applied all the writes the master had
   * accepted when called (`slave_repl_offset` reaches the master's `master_repl_offset`), or rejects
   * after `timeoutMs` (default 5000). Replication is asynchronous: without this, writes of the last
   * moment before a crash may be missing on the replica that takes over.
   */
  untilReplicated(port: number, timeoutMs?: number): Promise<void>;
  /**
   * Resolves with the port of the replica that took over the slots of the (killed) master on
   * `port`, once every live node reports `cluster_state:ok` and names that replica as the master of
   * those slots (polling `CLUSTER NODES`), or rejects after `timeoutMs` (default 10000).
   */
  untilPromoted(port: number, timeoutMs?: number): Promise<number>;
  /**
   * Lets the replicas of the master on `port` take over when it fails, or not
   * (`cluster-replica-no-failover`), so a test can hold the window between a master's death and
   * its replacement open for as long as it asserts on it. Allowed at start.
   */
  allowFailover(port: number, allowed: boolean): Promise<void>;
  /** Kills the node on `port` (SIGKILL), as a crashed master; resolves once it has exited. */
  kill(port: number): Promise<void>;
  /** Kills every node and removes the cluster's directory. */
  close(): Promise<void>;
}

/** How {@link startRedisCluster} shapes the cluster. */
export interface TestRedisClusterOptions {
  /** Masters, which share the 16384 slots. @default 3 */
  masters?: number;
  /** Replicas of each master. @default 0 */
  replicas?: number;
  /**
   * `cluster-node-timeout` in milliseconds: how long a silent node goes before it is failed over.
   * @default 1000 with replicas (a failover within a few seconds), else Redis' 15000
   */
  nodeTimeoutMs?: number;
  /** Longest wait for the cluster to form (and its replicas to sync), in milliseconds. @default 20000 */
  timeoutMs?: number;
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
function startNode(port: number, dir: string, settings: readonly string[]): Promise<ChildProcess> {
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
      ...settings,
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

/** Polls `probe` every 50 ms until it returns a value, or rejects once `timeoutMs` has passed. */
async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One line of `CLUSTER NODES`: `<id> <ip:port@bus> <flags> <master id|-> <ping> <pong> <epoch> <link> <slot>...`. */
interface NodeLine {
  id: string;
  port: number;
  flags: readonly string[];
  masterId: string;
  slots: readonly string[];
}

async function clusterNodes(port: number): Promise<NodeLine[]> {
  return (await cli(port, 'cluster', 'nodes'))
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', masterId = '', , , , , ...slots] = line.trim().split(' ');
      return { id, port: Number(/:(\d+)@/.exec(address)?.[1]), flags: flags.split(','), masterId, slots };
    });
}

const isClusterOk = (info: string): boolean => /^cluster_state:ok\r?$/m.test(info);

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*?)\\r?$`, 'm').exec(info)?.[1];
}

/**
 * Starts a Redis Cluster on free ports in a temporary directory (no persistence), creates it with
 * `redis-cli --cluster create` and waits until every node reports `cluster_state:ok`, knows every
 * replica, and every replica has synced with its master. Call `close()` in `afterAll`.
 *
 * With `replicas` > 0 a killed master is failed over: `cluster-node-timeout` is short (see
 * {@link TestRedisClusterOptions.nodeTimeoutMs}) and a replica stands for election however long it
 * last heard from its master (`cluster-replica-validity-factor 0`, so a stalled CI machine cannot
 * make it ineligible). Kill the master with `kill(port)`, then `await untilPromoted(port)`: a
 * condition wait on `CLUSTER NODES`, typically 2-3 s after the kill with the default node timeout.
 * To assert on the window before the promotion without racing it, `allowFailover(port, false)`
 * before the kill and `allowFailover(port, true)` after.
 * @example
 * const cluster = await startRedisCluster();
 * const client = new Cluster(cluster.nodes);
 * @example
 * const cluster = await startRedisCluster({ masters: 3, replicas: 1 });
 * const port = await cluster.portOfKey('{user:1}');
 * await cluster.kill(port);
 * const promoted = await cluster.untilPromoted(port); // now serves port's slots
 */
export async function startRedisCluster(options: TestRedisClusterOptions = {}): Promise<TestRedisCluster> {
  const { masters = 3, replicas = 0, timeoutMs = 20_000 } = options;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? (replicas > 0 ? 1_000 : undefined);
  const settings = [
    ...(nodeTimeoutMs === undefined ? [] : ['--cluster-node-timeout', String(nodeTimeoutMs)]),
    // a master otherwise waits 5 s for more replicas before it streams the first sync
    ...(replicas > 0 ? ['--cluster-replica-validity-factor', '0', '--repl-diskless-sync-delay', '0'] : []),
  ];
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-redis-cluster-'));
  const children = new Map<number, ChildProcess>();
  const dead = new Set<number>();
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
    for (let index = 0; index < masters * (1 + replicas); index += 1) {
      // a port taken by someone else between the check and the bind: pick another
      for (let attempt = 1; ; attempt += 1) {
        const port = await freeNodePort(taken);
        try {
          children.set(port, await startNode(port, dir, settings));
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
      String(replicas),
      '--cluster-yes',
    ]);
    await until(
      `the Redis Cluster did not reach cluster_state:ok with ${masters * replicas} synced replicas`,
      timeoutMs,
      async () => {
        const ready = await Promise.all(
          ports.map(async (port) => {
            const [info, nodes, replication] = await Promise.all([
              cli(port, 'cluster', 'info'),
              clusterNodes(port),
              cli(port, 'info', 'replication'),
            ]);
            const replicaCount = nodes.filter((line) => line.flags.includes('slave')).length;
            const synced =
              infoField(replication, 'role') !== 'slave' ||
              infoField(replication, 'master_link_status') === 'up';
            return isClusterOk(info) && replicaCount === masters * replicas && synced;
          }),
        );
        return ready.every(Boolean) ? true : undefined;
      },
    );
    // redis-cli picks which nodes become masters: read the roles back (every node now agrees on them)
    const created = await clusterNodes(ports[0] ?? 0);
    const portOfId = new Map(created.map((line) => [line.id, line.port]));
    const masterPorts = created.filter((line) => line.flags.includes('master')).map((line) => line.port);
    const replicaPorts = new Map<number, number[]>(masterPorts.map((port) => [port, []]));
    for (const line of created)
      if (line.flags.includes('slave')) replicaPorts.get(portOfId.get(line.masterId) ?? 0)?.push(line.port);
    const live = (): number[] => ports.filter((port) => !dead.has(port));
    const replicasOf = (port: number): readonly number[] => replicaPorts.get(port) ?? [];
    return {
      nodes: masterPorts.map((port) => `redis://127.0.0.1:${port}`),
      async portOfKey(key) {
        const first = live()[0] ?? 0;
        const slot = Number((await cli(first, 'cluster', 'keyslot', key)).trim());
        const shards = await cli(first, '--json', 'cluster', 'slots');
        const ranges = JSON.parse(shards) as Array<
          [number, number, [string, number, ...unknown[]], ...unknown[]]
        >;
        const range = ranges.find(([start, end]) => slot >= start && slot <= end);
        if (range === undefined) throw new Error(`no node holds slot ${slot}`);
        return range[2][1];
      },
      replicasOf,
      async untilReplicated(port, waitMs = 5_000) {
        const written = Number(infoField(await cli(port, 'info', 'replication'), 'master_repl_offset'));
        await until(
          `the replicas of ${port} did not reach its replication offset ${written}`,
          waitMs,
          async () => {
            const applied = await Promise.all(
              replicasOf(port).map(async (replica) =>
                Number(infoField(await cli(replica, 'info', 'replication'), 'slave_repl_offset')),
              ),
            );
            return applied.every((offset) => offset >= written) ? true : undefined;
          },
        );
      },
      async untilPromoted(port, waitMs = 10_000) {
        const candidates = replicasOf(port);
        if (candidates.length === 0) throw new Error(`the master on ${port} has no replica to promote`);
        return until(`no replica of ${port} was promoted on every live node`, waitMs, async () => {
          const views = await Promise.all(
            live().map(async (node) => {
              const [info, nodes] = await Promise.all([cli(node, 'cluster', 'info'), clusterNodes(node)]);
              if (!isClusterOk(info) || nodes.some((line) => line.port === port && line.slots.length > 0))
                return undefined;
              return nodes.find(
                (line) =>
                  candidates.includes(line.port) && line.flags.includes('master') && line.slots.length > 0,
              )?.port;
            }),
          );
          const [promoted] = views;
          return promoted !== undefined && views.every((view) => view === promoted) ? promoted : undefined;
        });
      },
      async allowFailover(port, allowed) {
        await Promise.all(
          replicasOf(port).map((replica) =>
            cli(replica, 'config', 'set', 'cluster-replica-no-failover', allowed ? 'no' : 'yes'),
          ),
        );
      },
      async kill(port) {
        const child = children.get(port);
        if (child === undefined) throw new Error(`no node of this cluster listens on ${port}`);
        await kill(child);
        dead.add(port);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
