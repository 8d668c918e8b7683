import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path/posix';

/** Where the cgroup files are read: the cgroup mount and this process's own cgroup membership. */
export interface CgroupPaths {
  /** @default '/sys/fs/cgroup' */
  root?: string;
  /** @default '/proc/self/cgroup' */
  selfCgroup?: string;
}

/**
 * The whole CPUs a cgroup v2 `cpu.max` ("200000 100000": quota and period in µs) allows, rounded
 * down, at least 1; undefined for no quota ("max 100000") or text that is not one.
 */
export function cpusFromCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max') return undefined;
  return cpusFromQuota(quota, period ?? '100000');
}

/**
 * The whole CPUs cgroup v1's `cpu.cfs_quota_us` and `cpu.cfs_period_us` allow, rounded down, at
 * least 1; undefined for no quota (-1) or text that is not one.
 */
export function cpusFromQuota(quotaText: string, periodText: string): number | undefined {
  const quota = Number(quotaText.trim());
  const period = Number(periodText.trim());
  if (!Number.isInteger(quota) || !Number.isInteger(period) || quota <= 0 || period <= 0) return undefined;
  // rounded down: the fraction left is the primary's, which relays the workers' output; a worker
  // per started CPU would have the cgroup throttled (CFS) in every period
  return Math.max(1, Math.floor(quota / period));
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** `dir` and each of its parents up to `base`: a quota set on a parent cgroup holds for its children too. */
function cgroupDirs(base: string, cgroup: string): string[] {
  const parts = cgroup.split('/').filter((part) => part !== '' && part !== '.' && part !== '..');
  const dirs: string[] = [];
  for (let depth = parts.length; depth >= 0; depth -= 1) dirs.push(join(base, ...parts.slice(0, depth)));
  return dirs;
}

function smallest(values: (number | undefined)[]): number | undefined {
  const set = values.filter((value): value is number => value !== undefined);
  return set.length === 0 ? undefined : Math.min(...set);
}

/**
 * The whole CPUs this process's cgroup lets it use, rounded down, at least 1 (a quota of 1.5 CPUs
 * is 1, of 0.5 CPUs 1 too); undefined when no quota is set or none can be read (not Linux, no
 * cgroup mount). cgroup v2: `cpu.max` of the process's cgroup (from `/proc/self/cgroup`) and of
 * its parents; cgroup v1: their `cpu.cfs_quota_us` / `cpu.cfs_period_us` under the `cpu` (or
 * `cpu,cpuacct`) hierarchy. The smallest quota found wins. In a container, whose cgroup is usually
 * the root of its own `/sys/fs/cgroup`, the files at the root are read too (a path seen from the
 * host is not there).
 */
export function cgroupCpuLimit(paths: CgroupPaths = {}): number | undefined {
  const root = paths.root ?? '/sys/fs/cgroup';
  const lines = (readText(paths.selfCgroup ?? '/proc/self/cgroup') ?? '').split('\n');
  // "0::/path" on cgroup v2; "4:cpu,cpuacct:/path" on v1
  const entry = (match: (controllers: string[]) => boolean): string =>
    lines
      .map((line) => /^\d+:([^:]*):(.*)$/.exec(line))
      .find((fields) => fields !== null && match((fields[1] ?? '').split(',')))?.[2] ?? '/';
  const v2 = smallest(
    cgroupDirs(
      root,
      entry((controllers) => controllers.join() === ''),
    ).map((dir) => {
      const text = readText(join(dir, 'cpu.max'));
      return text === undefined ? undefined : cpusFromCpuMax(text);
    }),
  );
  if (v2 !== undefined) return v2;
  const v1Cgroup = entry((controllers) => controllers.includes('cpu'));
  return smallest(
    ['cpu', 'cpu,cpuacct', 'cpuacct,cpu'].flatMap((hierarchy) =>
      cgroupDirs(join(root, hierarchy), v1Cgroup).map((dir) => {
        const quota = readText(join(dir, 'cpu.cfs_quota_us'));
        const period = readText(join(dir, 'cpu.cfs_period_us'));
        return quota === undefined || period === undefined ? undefined : cpusFromQuota(quota, period);
      }),
    ),
  );
}

/**
 * The CPUs the gateway can use: `os.availableParallelism()` (the cores this process may run on),
 * lowered to the cgroup's CPU quota (`docker run --cpus`, a Kubernetes CPU limit), which
 * `availableParallelism()` does not see on every Node.js version. At least 1.
 */
export function availableCpus(
  cores: number = availableParallelism(),
  quota: number | undefined = cgroupCpuLimit(),
): number {
  return Math.max(1, quota === undefined ? cores : Math.min(cores, quota));
}
