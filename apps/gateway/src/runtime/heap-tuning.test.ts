import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, SEMI_SPACE_GROWTH_FACTOR, heapTuningFlags } from './heap-tuning';

const GROWING = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
const SEMI_SPACE = `--semi-space-growth-factor=${SEMI_SPACE_GROWTH_FACTOR}`;

// In a fresh process: sets the flags after start-up, as tuneHeap() does, then keeps objects
// alive until V8 has grown the young generation twice; prints the new space's sizes.
const GROWTH_SCRIPT = `
const v8 = require('node:v8');
for (const flag of JSON.parse(process.argv[1])) v8.setFlagsFromString(flag);
const newSpace = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
const sizes = [newSpace()];
const kept = [];
for (let i = 0; i < 1000000 && sizes.length < 3; i++) {
  kept.push({ i, text: 'item ' + i });
  if (kept.length > 20000) kept.length = 0;
  if (newSpace() !== sizes.at(-1)) sizes.push(newSpace());
}
process.stdout.write(JSON.stringify(sizes));
`;

function youngGenerationSizes(flags: readonly string[]): number[] {
  const args = ['-e', GROWTH_SCRIPT, JSON.stringify(flags)];
  // NODE_OPTIONS of the test run (a --max-semi-space-size, say) would change the sizes measured
  const child = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  expect(child.status).toBe(0);
  return JSON.parse(child.stdout) as number[];
}

describe('heapTuningFlags', () => {
  it('caps the heap growth between full GCs and grows the young generation in one step by default', () => {
    expect(heapTuningFlags([])).toEqual([GROWING, SEMI_SPACE]);
    const others = ['--enable-source-maps', '--max-old-space-size=512'];
    expect(heapTuningFlags(others)).toEqual([GROWING, SEMI_SPACE]);
  });

  it('leaves each flag given on the node command line alone, in either spelling', () => {
    expect(heapTuningFlags(['--heap-growing-percent=0'])).toEqual([SEMI_SPACE]);
    expect(heapTuningFlags(['--heap_growing_percent=80'])).toEqual([SEMI_SPACE]);
    expect(heapTuningFlags(['--semi_space_growth_factor=2'])).toEqual([GROWING]);
    expect(heapTuningFlags(['--semi-space-growth-factor=4', '--heap-growing-percent=0'])).toEqual([]);
  });

  it('sets flags V8 still reads after start-up: the young generation grows to its maximum in one step', () => {
    // the first change commits the second semi-space; the next is V8's first growth
    const [, committed = 0, grown = 0] = youngGenerationSizes(heapTuningFlags([]));
    expect(grown).toBeGreaterThanOrEqual(committed * 8);
    // V8's own factor (2 on Node 20) grows it in smaller steps
    const [, before = 0, after = 0] = youngGenerationSizes([]);
    expect(after).toBeGreaterThan(before);
    expect(after).toBeLessThan(before * 8);
  });
});
