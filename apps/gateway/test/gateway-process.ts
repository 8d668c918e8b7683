import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';

// The built binary (the nx test target depends on build), run as a user would.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** A `switchyard start` child process and what it printed. */
export interface GatewayProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Where {@link startGatewayProcess} runs the CLI from. */
export interface GatewayProcessOptions {
  /** A script that runs the CLI (the package's bin). @default dist/cli.js */
  entry?: string;
  /** The working directory (where the embedded defaults put `./switchyard.db`). @default this process's */
  cwd?: string;
  /** Runs the CLI in a process group of its own, which a test can signal whole (as a terminal's Ctrl-C). @default false */
  detached?: boolean;
}

/** A CLI process as spawned, before it listens: what it printed so far, and its exit. */
export interface SpawnedGateway {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts the CLI without waiting for it to listen (see {@link startGatewayProcess}). */
export function spawnGatewayProcess(
  args: string[],
  env: Record<string, string> = {},
  options: GatewayProcessOptions = {},
): SpawnedGateway {
  const child = spawn(process.execPath, [options.entry ?? CLI, ...args], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.detached === true ? { detached: true } : {}),
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'silent', ...env },
  });
  let stdout = '';
  let stderr = '';
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Starts the CLI and resolves once it prints the URL it listens on. */
export function startGatewayProcess(
  args: string[],
  env: Record<string, string> = {},
  options: GatewayProcessOptions = {},
): Promise<GatewayProcess> {
  const { child, stdout, stderr, exited } = spawnGatewayProcess(args, env, options);
  return new Promise((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(stdout());
      if (match?.[1] !== undefined) resolve({ child, url: match[1], stderr, exited });
    });
    void exited.then((code) =>
      reject(new Error(`the gateway exited (${String(code)}) before listening: ${stdout()}${stderr()}`)),
    );
  });
}

/**
 * Kills every process of `processes` still running (SIGKILL) and empties the list, resolving once
 * all have exited: none still writes into a directory the test is about to remove.
 */
export async function killGatewayProcesses(processes: GatewayProcess[]): Promise<void> {
  await Promise.all(
    processes.splice(0).map(async (gateway) => {
      if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGKILL');
      await gateway.exited;
    }),
  );
}

/** One HTTP exchange on a fresh connection (no keep-alive), so a cluster may hand it to any worker. */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        agent: false,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // a connection handed to a worker that just died may never be answered
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.end(body);
  });
}

/** Polls `check` (every 20 ms) until it returns a value; fails once the deadline passes. */
export async function until<T>(
  check: () => Promise<T | undefined>,
  deadlineMs: number,
  what: string,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
