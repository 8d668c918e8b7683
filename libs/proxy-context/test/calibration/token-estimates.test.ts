import { readFileSync } from 'node:fs';
import { encode as encodeO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { TOKEN_ESTIMATES, tokenCounterFor, type TokenizerFamily } from '../../src/condenser/token-counter';

interface Corpus {
  samples: { id: string; kind: string; text: string }[];
}
interface ReferenceCounts {
  references: Record<string, { family: keyof typeof TOKEN_ESTIMATES; describes: string }>;
  samples: { id: string; o200k: number; reference: Record<string, number> }[];
}

const read = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, import.meta.url), 'utf8')) as T;
const corpus = read<Corpus>('./corpus.json');
const counts = read<ReferenceCounts>('./reference-counts.json');
const MODEL_OF_FAMILY: Record<keyof typeof TOKEN_ESTIMATES, string> = {
  'anthropic-estimate': 'claude-sonnet-4',
  'gemini-estimate': 'gemini-2.5-pro',
  'generic-estimate': 'llama-3.3-70b',
};

// Reference counts come from public tokenizers too large to install in CI; the calibration
// script (libs/proxy-context/scripts/calibrate-token-estimates.ts) measured them.
describe('token estimates against the calibration corpus', () => {
  it('has a reference count for every sample, made with the o200k encoding this build ships', () => {
    expect(counts.samples.map((sample) => sample.id)).toEqual(corpus.samples.map((sample) => sample.id));
    corpus.samples.forEach((sample, index) =>
      expect(encodeO200k(sample.text).length, sample.id).toBe(counts.samples[index]!.o200k),
    );
  });

  it('covers every estimating family with at least one reference tokenizer', () => {
    const families = new Set(Object.values(counts.references).map((reference) => reference.family));
    expect([...families].sort()).toEqual(Object.keys(TOKEN_ESTIMATES).sort());
  });

  for (const [name, { family, describes }] of Object.entries(counts.references)) {
    it(`never under-counts ${describes}, and over-counts within the documented bound`, async () => {
      const counter = await tokenCounterFor(MODEL_OF_FAMILY[family]);
      expect(counter.family satisfies TokenizerFamily).toBe(family);
      const { min, max } = TOKEN_ESTIMATES[family].calibration;
      expect(min).toBeGreaterThanOrEqual(1);
      const ratios = corpus.samples.map((sample, index) => {
        const reference = counts.samples[index]!.reference[name]!;
        expect(reference, `${name} ${sample.id}`).toBeGreaterThan(0);
        return { id: sample.id, ratio: counter.count(sample.text) / reference };
      });
      for (const { id, ratio } of ratios) {
        expect(ratio, `${family} on ${id} against ${name}`).toBeGreaterThanOrEqual(min - 0.0005);
        expect(ratio, `${family} on ${id} against ${name}`).toBeLessThanOrEqual(max + 0.0005);
      }
    });
  }
});
