import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableCpus, cgroupCpuLimit, cpusFromCpuMax, cpusFromQuota } from './cpu-quota';

let dir: string;
let fixtures = 0;

/** A cgroup mount and a `/proc/self/cgroup` made of `files` (paths relative to the mount). */
async function cgroup(
  self: string,
  files: Record<string, string>,
): Promise<{ root: string; selfCgroup: string }> {
  fixtures += 1;
  const root = join(dir, `fixture-${fixtures}`, 'sys-fs-cgroup');
  await mkdir(root, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  const selfCgroup = join(dir, `fixture-${fixtures}`, 'self-cgroup');
  await writeFile(selfCgroup, self);
  return { root, selfCgroup };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-cgroup-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('cpusFromCpuMax and cpusFromQuota', () => {
  it('round a quota down to whole CPUs, at least one (the rest is left to the primary); no quota is undefined', () => {
    expect(cpusFromCpuMax('200000 100000\n')).toBe(2);
    expect(cpusFromCpuMax('150000 100000\n')).toBe(1);
    expect(cpusFromCpuMax('250000 100000\n')).toBe(2);
    expect(cpusFromCpuMax('199999 100000\n')).toBe(1);
    expect(cpusFromCpuMax('50000 100000\n')).toBe(1);
    expect(cpusFromCpuMax('1000 100000\n')).toBe(1);
    expect(cpusFromCpuMax('max 100000\n')).toBeUndefined();
    expect(cpusFromCpuMax('')).toBeUndefined();
    expect(cpusFromCpuMax('lots of cpus')).toBeUndefined();
    expect(cpusFromQuota('400000\n', '100000\n')).toBe(4);
    expect(cpusFromQuota('-1\n', '100000\n')).toBeUndefined();
    expect(cpusFromQuota('100000', '0')).toBeUndefined();
  });
});

describe('cgroupCpuLimit', () => {
  it("reads cgroup v2's cpu.max at the root a container sees as its own cgroup", async () => {
    expect(cgroupCpuLimit(await cgroup('0::/\n', { 'cpu.max': '200000 100000\n' }))).toBe(2);
    expect(cgroupCpuLimit(await cgroup('0::/\n', { 'cpu.max': 'max 100000\n' }))).toBeUndefined();
  });

  it("reads the process's own cgroup and its parents, the smallest quota winning", async () => {
    const files = {
      'system.slice/cpu.max': '300000 100000\n',
      'system.slice/switchyard.service/cpu.max': 'max 100000\n',
    };
    expect(cgroupCpuLimit(await cgroup('0::/system.slice/switchyard.service\n', files))).toBe(3);
    const nested = { ...files, 'system.slice/switchyard.service/cpu.max': '250000 100000\n' };
    expect(cgroupCpuLimit(await cgroup('0::/system.slice/switchyard.service\n', nested))).toBe(2);
  });

  it("falls back to the root's files when the process's cgroup path is the host's (no cgroup namespace)", async () => {
    const paths = await cgroup('0::/kubepods/burstable/pod1/abc\n', { 'cpu.max': '100000 100000\n' });
    expect(cgroupCpuLimit(paths)).toBe(1);
  });

  it("reads cgroup v1's cfs quota and period under the cpu hierarchy", async () => {
    const self = '12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n';
    const v1 = { 'cpu/cpu.cfs_quota_us': '250000\n', 'cpu/cpu.cfs_period_us': '100000\n' };
    expect(cgroupCpuLimit(await cgroup(self, v1))).toBe(2);
    const joined = {
      'cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '100000\n',
      'cpu,cpuacct/docker/abc/cpu.cfs_period_us': '50000\n',
    };
    expect(cgroupCpuLimit(await cgroup(self, joined))).toBe(2);
    const unlimited = { 'cpu/cpu.cfs_quota_us': '-1\n', 'cpu/cpu.cfs_period_us': '100000\n' };
    expect(cgroupCpuLimit(await cgroup(self, unlimited))).toBeUndefined();
  });

  it('is undefined without cgroup files (not Linux, nothing mounted)', async () => {
    expect(cgroupCpuLimit(await cgroup('', {}))).toBeUndefined();
    expect(
      cgroupCpuLimit({ root: join(dir, 'absent'), selfCgroup: join(dir, 'absent', 'cgroup') }),
    ).toBeUndefined();
  });
});

describe('availableCpus', () => {
  it('is one per core, lowered to the quota, at least 1', () => {
    expect(availableCpus(8, undefined)).toBe(8);
    expect(availableCpus(8, 2)).toBe(2);
    expect(availableCpus(2, 16)).toBe(2);
    expect(availableCpus(0, undefined)).toBe(1);
    // this machine, as start counts it: never more than Node's count
    expect(availableCpus()).toBeLessThanOrEqual(availableParallelism());
  });
});
