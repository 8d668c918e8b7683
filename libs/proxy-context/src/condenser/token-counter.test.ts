import { linearizedPdf } from '../../test/support/linearized-pdf';
import { describe, expect, it, vi } from 'vitest';
import fixture from './__fixtures__/agent-incident-conversation.json';
import type { ChatCompletionRequest, ChatMessage } from '@switchyard/proxy-core';
import * as cl100kEncoding from 'gpt-tokenizer/encoding/cl100k_base';
import * as o200kEncoding from 'gpt-tokenizer/encoding/o200k_base';
import {
  MAX_TOKENIZED_CHARS,
  TOKENIZER_CHUNK_CHARS,
  TOKENIZER_RUN_CHARS,
  TOKEN_ESTIMATES,
  countMessage,
  countRequest,
  exactCounter,
  tokenCounterFor,
  tokenCounterForModels,
  tokenizerFamily,
  upperBoundTokens,
  type Encoding,
  type EncodingLoader,
} from './token-counter';

/** The real o200k encoding, recording what it is asked to encode. */
function instrumentedO200k(): { encoding: Encoding; calls: number[] } {
  const calls: number[] = [];
  const encoding: Encoding = {
    encode: (text, options) => {
      calls.push(text.length);
      return o200kEncoding.encode(text, options);
    },
    decode: (tokens) => o200kEncoding.decode(tokens),
  };
  return { encoding, calls };
}

function prose(chars: number): string {
  const words =
    'The quick brown fox, said Ana, jumps over 1234 lazy dogs; vérifié über naïve 日本語のテキスト.\n'.split(
      ' ',
    );
  let text = '';
  for (let index = 0; text.length < chars; index += 1) text += `${words[(index * 7919) % words.length]} `;
  return text;
}

/** One RIFF chunk: id, little-endian size, payload padded to an even length. */
function riffChunk(id: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'latin1');
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload, Buffer.alloc(payload.length % 2)]);
}

/** A base64 WAV file of `seconds` of 16-bit mono silence, with `before` chunks ahead of its `fmt ` chunk. */
function wav(seconds: number, byteRate: number, before: Buffer[] = []): string {
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(1, 0); // PCM
  fmt.writeUInt16LE(1, 2); // mono
  fmt.writeUInt32LE(byteRate / 2, 4); // samples a second
  fmt.writeUInt32LE(byteRate, 8);
  fmt.writeUInt16LE(2, 12); // bytes a sample frame
  fmt.writeUInt16LE(16, 14); // bits a sample
  const body = Buffer.concat([
    Buffer.from('WAVE', 'latin1'),
    ...before,
    riffChunk('fmt ', fmt),
    riffChunk('data', Buffer.alloc(seconds * byteRate)),
  ]);
  return riffChunk('RIFF', body).toString('base64');
}

/** Tokens one content part adds to a user message. */
function partTokens(part: unknown, model = 'gpt-4o', imageTokens?: number): Promise<number> {
  const options = imageTokens === undefined ? {} : { imageTokens };
  return tokenCounterFor(model).then(
    (counter) =>
      countMessage({ role: 'user', content: [part] } as unknown as ChatMessage, counter, options) -
      countMessage({ role: 'user', content: [] }, counter, options),
  );
}

function pdfPart(bytes: Buffer): unknown {
  const data = bytes.toString('base64');
  return { type: 'file', file: { filename: 'report.pdf', file_data: `data:application/pdf;base64,${data}` } };
}

function inlineFile(bytes: number): unknown {
  return pdfPart(Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(bytes)]));
}

describe('token counting', () => {
  it('maps model ids to tokenizer families', () => {
    expect(tokenizerFamily('gpt-4o-mini')).toBe('o200k_base');
    expect(tokenizerFamily('openai/o3-mini')).toBe('o200k_base');
    expect(tokenizerFamily('gpt-4-turbo')).toBe('cl100k_base');
    expect(tokenizerFamily('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(tokenizerFamily('claude-3-5-sonnet-20241022')).toBe('anthropic-estimate');
    expect(tokenizerFamily('gemini-2.5-pro')).toBe('gemini-estimate');
    expect(tokenizerFamily('llama-3.3-70b')).toBe('generic-estimate');
  });

  it('maps Claude on Bedrock and Vertex to the Anthropic estimate (Bedrock ids fell to the generic one, which under-counts Russian)', () => {
    for (const id of [
      'anthropic.claude-3-5-sonnet-20240620-v1:0',
      'us.anthropic.claude-sonnet-4-20250514-v1:0',
      'eu.anthropic.claude-3-7-sonnet-20250219-v1:0',
      'apac.anthropic.claude-3-haiku-20240307-v1:0',
      'global.anthropic.claude-sonnet-4-20250514-v1:0',
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0',
      'bedrock/anthropic.claude-3-haiku-20240307-v1:0:200k',
      'claude-sonnet-4@20250514',
      'claude-3-5-sonnet-v2@20241022',
    ]) {
      expect(tokenizerFamily(id), id).toBe('anthropic-estimate');
    }
    expect(tokenizerFamily('openai.gpt-oss-120b-1:0')).toBe('o200k_base');
    expect(tokenizerFamily('meta.llama3-70b-instruct-v1:0')).toBe('generic-estimate');
    // a name merely containing "claude" is not Claude
    expect(tokenizerFamily('my-claude-finetune')).toBe('generic-estimate');
  });

  it('counts OpenAI encodings exactly (known counts), special-token text included', async () => {
    const o200k = await tokenCounterFor('gpt-4o');
    const cl100k = await tokenCounterFor('gpt-4');
    expect(o200k.exact).toBe(true);
    expect(cl100k.count('hello world')).toBe(2);
    expect(o200k.count('hello world')).toBe(2);
    expect(o200k.count('<|endoftext|>')).toBeGreaterThan(1);
    expect(o200k.head('one two three four', 2)).toBe('one two');
    expect(o200k.tail('one two three four', 2)).toBe(' three four');
  });

  it('estimates other families from the OpenAI counts and the digits, by their weights', async () => {
    const [claude, gemini, llama, o200k, cl100k] = await Promise.all(
      ['claude-sonnet-4', 'gemini-2.5-pro', 'llama-3.3-70b', 'gpt-4o', 'gpt-4'].map((model) =>
        tokenCounterFor(model),
      ),
    );
    const text = 'The quick brown fox jumps over the lazy dog 1234567 times. '.repeat(50);
    const weighted = (model: keyof typeof TOKEN_ESTIMATES): number => {
      const { o200k: a, cl100k: b, digits } = TOKEN_ESTIMATES[model];
      return Math.ceil(a * o200k!.count(text) + b * cl100k!.count(text) + digits * 7 * 50);
    };
    expect(claude!.exact).toBe(false);
    expect(claude!.count(text)).toBe(weighted('anthropic-estimate'));
    expect(gemini!.count(text)).toBe(weighted('gemini-estimate'));
    expect(llama!.count(text)).toBe(weighted('generic-estimate'));
    expect(claude!.count('')).toBe(0);
  });

  it('cuts estimated text to about the asked number of estimated tokens', async () => {
    const gemini = await tokenCounterFor('gemini-2.5-pro');
    const text = Array.from({ length: 200 }, (_, index) => `line ${index}: the value is ${index * 37}`).join(
      '\n',
    );
    const head = gemini.head(text, 100);
    const tail = gemini.tail(text, 100);
    expect(text.startsWith(head)).toBe(true);
    expect(text.endsWith(tail)).toBe(true);
    for (const part of [head, tail]) {
      expect(gemini.count(part)).toBeLessThanOrEqual(110);
      expect(gemini.count(part)).toBeGreaterThan(60);
    }
  });

  it('counts a chat request with the OpenAI message envelope', async () => {
    const counter = await tokenCounterFor('gpt-4o');
    // 3 per message + role + content, plus 3 to prime the reply
    expect(
      countRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello world' }] }, counter),
    ).toBe(3 + 1 + 2 + 3);
  });

  it('bounds the exact count from above without tokenizing', async () => {
    const request = { model: 'gpt-4o', ...fixture } as unknown as ChatCompletionRequest;
    // a structured-output schema is in the prompt: counted, and bounded, as its JSON
    const jsonSchema = {
      name: 'answer',
      schema: { type: 'object', properties: { text: { type: 'string' } } },
    };
    const schema: ChatCompletionRequest = {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      response_format: { type: 'json_schema', json_schema: jsonSchema },
    };
    for (const model of ['gpt-4o', 'gpt-4', 'claude-sonnet-4', 'gemini-2.5-pro', 'llama-3.3-70b']) {
      const counter = await tokenCounterFor(model);
      for (const each of [request, schema]) {
        expect(upperBoundTokens(each, tokenizerFamily(model))).toBeGreaterThanOrEqual(
          countRequest(each, counter),
        );
      }
      expect(countRequest(schema, counter)).toBe(
        countRequest({ ...schema, response_format: { type: 'json_object' } }, counter) +
          counter.count(JSON.stringify(jsonSchema)),
      );
    }
  });

  // BPE is quadratic in the length of one pre-token: 'a' x 32k took 2 s, x 400k would take minutes
  it('counts a 400k-character run without spaces in bounded pieces, and the public counter finishes', async () => {
    const { encoding, calls } = instrumentedO200k();
    const counter = exactCounter('o200k_base', encoding);
    const run = 'a'.repeat(400_000);
    const tokens = counter.count(run);
    expect(Math.max(...calls)).toBeLessThanOrEqual(TOKENIZER_RUN_CHARS);
    expect(calls.reduce((sum, n) => sum + n, 0)).toBe(run.length);
    expect(tokens).toBeGreaterThanOrEqual(run.length / 8);
    expect((await tokenCounterFor('gpt-4o')).count(run)).toBe(tokens);
    expect((await tokenCounterFor('claude-sonnet-4')).count(run)).toBeGreaterThan(0);
  });

  it('cuts whitespace runs too (the pre-tokenising regex is quadratic on them)', () => {
    const { encoding, calls } = instrumentedO200k();
    exactCounter('o200k_base', encoding).count(' '.repeat(100_000));
    expect(Math.max(...calls)).toBeLessThanOrEqual(TOKENIZER_RUN_CHARS);
  });

  it('stays exact on prose: pieces are cut before a space that follows a word', () => {
    const { encoding, calls } = instrumentedO200k();
    const text = prose(60_000);
    expect(exactCounter('o200k_base', encoding).count(text)).toBe(o200kEncoding.encode(text).length);
    expect(calls.length).toBeGreaterThan(10);
    expect(Math.max(...calls)).toBeLessThanOrEqual(TOKENIZER_CHUNK_CHARS);
  });

  it('takes the head and tail of a 400k-character run in bounded pieces', async () => {
    const { encoding, calls } = instrumentedO200k();
    const counter = exactCounter('o200k_base', encoding);
    const run = 'b'.repeat(200_000) + 'c'.repeat(200_000);
    const head = counter.head(run, 1_000);
    const tail = counter.tail(run, 1_000);
    expect(Math.max(...calls)).toBeLessThanOrEqual(TOKENIZER_RUN_CHARS);
    expect(run.startsWith(head)).toBe(true);
    expect(run.endsWith(tail)).toBe(true);
    for (const part of [head, tail]) {
      expect(counter.count(part)).toBeLessThanOrEqual(1_000);
      expect(counter.count(part)).toBeGreaterThan(900);
    }
    const public4o = await tokenCounterFor('gpt-4o');
    expect(public4o.count(public4o.tail(run, 500))).toBeLessThanOrEqual(500);
  });

  it('tokenizes at most MAX_TOKENIZED_CHARS per counter, then bounds the rest by UTF-8 bytes', () => {
    const { encoding, calls } = instrumentedO200k();
    const counter = exactCounter('o200k_base', encoding);
    const text = 'hello '.repeat(250_000);
    const exact = o200kEncoding.encode(text).length;
    const tokens = counter.count(text);
    expect(calls.reduce((sum, n) => sum + n, 0)).toBeLessThanOrEqual(MAX_TOKENIZED_CHARS);
    expect(tokens).toBeGreaterThanOrEqual(exact);
    expect(tokens).toBeLessThanOrEqual(Buffer.byteLength(text));
    // past the cap, cuts are made by bytes: still within the asked tokens
    const head = counter.head(text, 100);
    const tail = counter.tail(text, 100);
    expect(head.length).toBeGreaterThan(0);
    expect(o200kEncoding.encode(head).length).toBeLessThanOrEqual(100);
    expect(o200kEncoding.encode(tail).length).toBeLessThanOrEqual(100);
    expect(text.endsWith(tail)).toBe(true);
  });

  it('counts an assistant refusal like text, as the refusal field and as refusal parts', async () => {
    const refusal = "I'm sorry, but I can't help with writing that letter.";
    for (const model of ['gpt-4o', 'claude-sonnet-4']) {
      const counter = await tokenCounterFor(model);
      const empty = countMessage({ role: 'assistant', content: null }, counter);
      expect(counter.count(refusal)).toBeGreaterThan(5);
      expect(countMessage({ role: 'assistant', content: null, refusal }, counter)).toBe(
        empty + counter.count(refusal),
      );
      const parts = [
        { type: 'refusal', refusal },
        { type: 'refusal', refusal: 'No.' },
      ];
      expect(countMessage({ role: 'assistant', content: parts } as unknown as ChatMessage, counter)).toBe(
        empty + counter.count(refusal) + counter.count('No.'),
      );
    }
  });

  it('charges input audio 10 tokens a second: a WAV by its header byte rate, mp3 as 320 kbit/s (never long)', async () => {
    const audio = (data: string, format: string) =>
      partTokens({ type: 'input_audio', input_audio: { data, format } });
    // 10 s at 16 kHz and at 48 kHz
    expect(await audio(wav(10, 32_000), 'wav')).toBe(100);
    expect(await audio(wav(10, 96_000), 'wav')).toBe(100);
    // chunks ahead of `fmt ` (JUNK, a broadcast-WAV bext) are skipped
    const junk = riffChunk('JUNK', Buffer.alloc(28));
    const bext = riffChunk('bext', Buffer.alloc(603));
    expect(await audio(wav(3, 32_000, [junk, bext]), 'wav')).toBe(30);
    expect(await audio(`data:audio/wav;base64,${wav(10, 32_000)}`, 'wav')).toBe(100);
    // samples without a RIFF header: OpenAI's pcm16 (24 kHz, 16-bit mono: 48 000 bytes a second)
    expect(await audio(Buffer.alloc(480_000).toString('base64'), 'wav')).toBe(100);
    // mp3 at 320 kbit/s, the most MPEG-1 Layer III carries: 40 000 bytes a second
    expect(await audio(Buffer.alloc(400_000).toString('base64'), 'mp3')).toBe(100);
    // a one-hour clip at 128 kbit/s counts 14 400 tokens of its 36 000: no longer an empty message, never over
    expect(await audio(Buffer.alloc(57_600_000).toString('base64'), 'mp3')).toBe(14_400);
  });

  it('reads only the head of an audio payload, never decodes it whole', async () => {
    const data = wav(120, 48_000);
    const from = vi.spyOn(Buffer, 'from');
    try {
      expect(await partTokens({ type: 'input_audio', input_audio: { data, format: 'wav' } })).toBe(1_200);
      const decoded = from.mock.calls.map(([value]) => (typeof value === 'string' ? value.length : 0));
      expect(Math.max(0, ...decoded)).toBeLessThanOrEqual(8_192);
    } finally {
      from.mockRestore();
    }
  });

  it('charges an inline PDF the pages a linearized file states, any other file and a file_id one page', async () => {
    const page = 1_500 + 1_000;
    // a linearized ("Fast Web View") PDF names its page count in its first object
    const linearized = (pages: number, padding: number) => pdfPart(linearizedPdf(pages, padding));
    expect(await partTokens(linearized(36, 263_000), 'gpt-4o', 1_000)).toBe(36 * page);
    expect(await partTokens(linearized(3, 13_000_000), 'gpt-4o', 1_000)).toBe(3 * page);
    // base64 wrapped in 76-column lines with a trailing newline reads the same
    const wrapped = `${(
      linearizedPdf(7, 5_000)
        .toString('base64')
        .match(/.{1,76}/g) ?? []
    ).join('\r\n')}\n`;
    expect(await partTokens({ type: 'file', file: { file_data: wrapped } }, 'gpt-4o', 1_000)).toBe(7 * page);
    // a file changed since it was linearized (its length no longer the dictionary's): one page
    expect(await partTokens(pdfPart(linearizedPdf(36, 263_000, 250_000)), 'gpt-4o', 1_000)).toBe(page);
    // any other file, whatever its size (a 13 MB scan of five pages would have counted 52): one page
    expect(await partTokens(inlineFile(13_000_000), 'gpt-4o', 1_000)).toBe(page);
    expect(
      await partTokens(
        pdfPart(Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>')),
        'gpt-4o',
        1_000,
      ),
    ).toBe(page);
    // raw base64 without the data: prefix reads the same
    const raw = {
      type: 'file',
      file: {
        file_data: (linearized(5, 1_000) as { file: { file_data: string } }).file.file_data.split(',')[1],
      },
    };
    expect(await partTokens(raw, 'gpt-4o', 1_000)).toBe(5 * page);
    // an uploaded file is not seen here: one page, the least a PDF takes
    expect(await partTokens({ type: 'file', file: { file_id: 'file-6F2ksmvXxt4VdoqmHRw6kL' } })).toBe(
      1_500 + 1_105,
    );
    // the estimates are not text: the same for every tokenizer family
    expect(await partTokens(linearized(36, 1_000), 'claude-sonnet-4', 1_000)).toBe(36 * page);
  });

  it('reads only the head of a PDF, never decodes it whole', async () => {
    const file = inlineFile(4_000_000);
    const from = vi.spyOn(Buffer, 'from');
    try {
      await partTokens(file);
      const decoded = from.mock.calls.map(([value]) => (typeof value === 'string' ? value.length : 0));
      expect(Math.max(0, ...decoded)).toBeLessThanOrEqual(2_048);
    } finally {
      from.mockRestore();
    }
  });

  it('bounds requests with refusals, audio and files from above too', async () => {
    const request = {
      model: 'gpt-4o',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Read this.' },
            inlineFile(600_000),
            inlineFile(10),
            inlineFile(20),
          ],
        },
        {
          role: 'assistant',
          content: [{ type: 'refusal', refusal: 'I cannot read that file. '.repeat(100) }],
        },
        { role: 'assistant', content: null, refusal: 'Nor that one, sorry. '.repeat(100) },
        {
          role: 'user',
          content: [{ type: 'input_audio', input_audio: { data: wav(5, 32_000), format: 'wav' } }],
        },
      ],
    } as unknown as ChatCompletionRequest;
    for (const model of ['gpt-4o', 'gpt-4', 'claude-sonnet-4', 'gemini-2.5-pro', 'llama-3.3-70b']) {
      const counter = await tokenCounterFor(model);
      const tokens = countRequest(request, counter);
      expect(tokens).toBeGreaterThan(3 * 2_605 + 50 + 1_000);
      expect(upperBoundTokens(request, tokenizerFamily(model))).toBeGreaterThanOrEqual(tokens);
    }
  });
});

describe('a tool message without tool_call_id', () => {
  // the request schema takes one (the provider then refuses it with a 400 naming the field):
  // counting threw a TypeError first, a 500 whenever the condenser was on
  const toolMessage = { role: 'tool', content: 'done' } as unknown as ChatMessage;

  it('is counted as one with an empty id, exactly and as an upper bound', async () => {
    const counter = await tokenCounterFor('gpt-4o');
    const withId = { role: 'tool', content: 'done', tool_call_id: '' } as ChatMessage;
    expect(countMessage(toolMessage, counter, {})).toBe(countMessage(withId, counter, {}));
    const request = (message: ChatMessage): ChatCompletionRequest => ({
      model: 'gpt-4o',
      messages: [message],
    });
    expect(upperBoundTokens(request(toolMessage), 'o200k_base')).toBe(
      upperBoundTokens(request(withId), 'o200k_base'),
    );
  });
});

describe('counting for an alias whose targets tokenize differently', () => {
  const fiveFamilies = ['gpt-4o', 'gpt-4', 'claude-sonnet-4', 'gemini-2.5-pro', 'llama-3.3-70b'];

  /** The real encodings, each recording how many characters it is asked to encode. */
  function instrumentedEncodings(): { load: EncodingLoader; encoded: Record<string, number> } {
    const encoded: Record<string, number> = { o200k_base: 0, cl100k_base: 0 };
    const real = { o200k_base: o200kEncoding, cl100k_base: cl100kEncoding };
    const load: EncodingLoader = (name) =>
      Promise.resolve({
        encode: (text, options) => {
          encoded[name] = (encoded[name] ?? 0) + text.length;
          return real[name].encode(text, options);
        },
        decode: (tokens) => real[name].decode(tokens),
      });
    return { load, encoded };
  }

  // each family built its own o200k and cl100k counters: a text was encoded up to three times in
  // each encoding, under a cap of its own per counter (a five-family alias tokenized 6M characters)
  it('encodes each text once per encoding, however many families count in it', async () => {
    const { load, encoded } = instrumentedEncodings();
    const counter = await tokenCounterForModels(fiveFamilies, load);
    const text = prose(20_000);
    const tokens = counter.count(text);
    expect(encoded).toEqual({ o200k_base: text.length, cl100k_base: text.length });
    // one memo per encoding: counted again, nothing is encoded
    expect(counter.count(text)).toBe(tokens);
    expect(encoded).toEqual({ o200k_base: text.length, cl100k_base: text.length });
    for (const model of fiveFamilies)
      expect(tokens).toBeGreaterThanOrEqual((await tokenCounterFor(model)).count(text));
  });

  it('tokenizes at most MAX_TOKENIZED_CHARS per encoding for the whole alias', async () => {
    const { load, encoded } = instrumentedEncodings();
    const counter = await tokenCounterForModels(fiveFamilies, load);
    const text = 'hello '.repeat(250_000);
    expect(counter.count(text)).toBeGreaterThanOrEqual(o200kEncoding.encode(text).length);
    expect(encoded['o200k_base']).toBeLessThanOrEqual(MAX_TOKENIZED_CHARS);
    expect(encoded['cl100k_base']).toBeLessThanOrEqual(MAX_TOKENIZED_CHARS);
  });

  it('bounds a request for several families in one pass, at the largest family factor', () => {
    const request: ChatCompletionRequest = {
      model: 'alias',
      messages: [{ role: 'user', content: `${prose(2_000)} 0123456789` }],
    };
    const families = fiveFamilies.map(tokenizerFamily);
    const each = families.map((family) => upperBoundTokens(request, family));
    expect(upperBoundTokens(request, families)).toBe(Math.max(...each));
  });
});
