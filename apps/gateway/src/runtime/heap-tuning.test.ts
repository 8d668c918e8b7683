import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, heapTuningFlags } from './heap-tuning';

describe('heapTuningFlags', () => {
  it('caps the heap growth between full GCs by default', () => {
    expect(heapTuningFlags([])).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    expect(heapTuningFlags(['--enable-source-maps', '--max-old-space-size=512'])).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  });

  it('leaves a growth given on the node command line alone, in either spelling', () => {
    expect(heapTuningFlags(['--heap-growing-percent=0'])).toEqual([]);
    expect(heapTuningFlags(['--heap_growing_percent=80'])).toEqual([]);
  });
});
