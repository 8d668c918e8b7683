// Summarises V8 CPU profiles (`node --cpu-prof`): the top functions by self time and the
// time per package, as shares of the busy (non-idle) time, and per request when told how
// many requests the profile covers.
//
//   npx tsx scripts/profile-summary.ts <file.cpuprofile | directory> [--top=25] [--requests=N] [--skip-ms=N] [--after=function] [--samples]
//
// --samples weighs every sample alike (the median interval each) instead of by the time to the
// next sample: on a loaded machine a process descheduled right after a sample hands that one
// sample tens of milliseconds, so whatever function it caught looks expensive.
// --skip-ms leaves out the first N milliseconds of each profile; --after=<function> leaves out
// every sample before the first one with that function on its stack (e.g. parserOnIncoming:
// the first HTTP request), so module loading and start-up do not count.
// A directory is read as every .cpuprofile in it, merged (one per process: profile the
// gateway only, e.g. with BENCH_GATEWAY_NODE_OPTIONS, see docs/benchmarks.md).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const target = args.find((arg) => !arg.startsWith('--'));
const option = (name: string): number | undefined => {
  const value = args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  return value === undefined ? undefined : Number(value);
};
const top = option('top') ?? 25;
const requests = option('requests');
const skipMicros = (option('skip-ms') ?? 0) * 1000;
const after = args.find((arg) => arg.startsWith('--after='))?.slice('--after='.length);
const bySamples = args.includes('--samples');
if (target === undefined) {
  process.stderr.write(
    'usage: tsx scripts/profile-summary.ts <file.cpuprofile | directory> [--top=25] [--requests=N] [--skip-ms=N] [--after=function] [--samples]\n',
  );
  process.exit(2);
}

// V8's pseudo-frames: idle is not work; program, GC and the rest are
const IDLE = new Set(['(idle)']);

/** The package a frame belongs to: an npm package, a workspace lib, Node itself, or V8. */
function packageOf(frame: CallFrame): string {
  const { url } = frame;
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node (built-in modules)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const [first, second] = url.slice(modules + '/node_modules/'.length).split('/');
    return first?.startsWith('@') === true ? `${first}/${second ?? ''}` : (first ?? url);
  }
  const lib = /\/(libs|apps)\/([^/]+)\//.exec(url);
  if (lib !== null) return `@switchyard/${lib[2] ?? ''}`;
  return url.replace(/^file:\/\//, '');
}

function label(frame: CallFrame): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  const file = frame.url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/(libs|apps)\//, '');
  return `${name}  ${file}:${frame.lineNumber + 1}`;
}

async function profilesAt(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  return (await readdir(path)).filter((name) => name.endsWith('.cpuprofile')).map((name) => join(path, name));
}

const selfByFunction = new Map<string, number>();
const selfByPackage = new Map<string, number>();
let busy = 0;
let idle = 0;
const files = await profilesAt(target);
if (files.length === 0) throw new Error(`no .cpuprofile under ${target}`);
for (const file of files) {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const onStack = (id: number, name: string): boolean => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
      if (byId.get(at)?.callFrame.functionName === name) return true;
    return false;
  };
  const sorted = [...profile.timeDeltas].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1] ?? 0;
  let started = after === undefined;
  // timeDeltas[i] is the time since the previous sample: sample i-1 ran for timeDeltas[i]
  let elapsed = 0;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const node = byId.get(profile.samples[i] ?? -1);
    const micros = bySamples ? median : (profile.timeDeltas[i + 1] ?? 0);
    elapsed += profile.timeDeltas[i] ?? 0;
    if (node === undefined || elapsed < skipMicros) continue;
    if (!started && after !== undefined) started = onStack(node.id, after);
    if (!started) continue;
    if (IDLE.has(node.callFrame.functionName)) {
      idle += micros;
      continue;
    }
    busy += micros;
    const name = label(node.callFrame);
    selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + micros);
    const pkg = packageOf(node.callFrame);
    selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + micros);
  }
}

const share = (micros: number): string => `${((micros / busy) * 100).toFixed(1).padStart(5)}%`;
const perRequest = (micros: number): string =>
  requests === undefined ? '' : `  ${(micros / requests).toFixed(1).padStart(7)} µs/req`;
const print = (title: string, entries: Map<string, number>, limit: number): void => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    process.stdout.write(`${share(micros)}${perRequest(micros)}  ${name}\n`);
  }
};

process.stdout.write(
  `${files.length} profile(s): busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s${perRequest(busy)}\n`,
);
print('by package (self time)', selfByPackage, 20);
print(`top ${top} functions (self time)`, selfByFunction, top);
