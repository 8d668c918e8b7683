import { describe, expect, it } from 'vitest';
import { geminiUrlCitations } from './gemini-url-citations';

const web = (uri: string, title?: string) => ({ web: { uri, ...(title === undefined ? {} : { title }) } });
const support = (
  startIndex: number | undefined,
  endIndex: number,
  groundingChunkIndices: number[],
  partIndex?: number,
) => ({
  segment: {
    ...(partIndex === undefined ? {} : { partIndex }),
    ...(startIndex === undefined ? {} : { startIndex }),
    endIndex,
  },
  groundingChunkIndices,
});
const cite = (url: string, title: string, start_index: number, end_index: number) => ({
  type: 'url_citation',
  url_citation: { url, title, start_index, end_index },
});

describe('geminiUrlCitations', () => {
  it("reads Google's UTF-8 byte offsets as the UTF-16 indices of the content, one citation per web source", () => {
    // "é" is 2 bytes and 1 index, "🏆" 4 bytes and 2 indices
    const text = 'Café 🏆 won. Next.';
    const grounding = {
      groundingChunks: [web('https://a.example/1', 'a.example'), web('https://b.example/2', 'b.example')],
      groundingSupports: [support(undefined, 15, [0]), support(16, 21, [0, 1])],
    };
    expect(text.slice(0, 12)).toBe('Café 🏆 won.');
    expect(geminiUrlCitations([text], grounding)).toEqual([
      cite('https://a.example/1', 'a.example', 0, 12),
      cite('https://a.example/1', 'a.example', 13, 18),
      cite('https://b.example/2', 'b.example', 13, 18),
    ]);
  });

  it("places a segment in its part's text, after the text of the parts before it, and skips parts that put none", () => {
    const grounding = {
      groundingChunks: [web('https://a.example')],
      groundingSupports: [support(0, 3, [0], 2), support(0, 2, [0], 1)],
    };
    // part 1 is a thought: it put no text in the content
    expect(geminiUrlCitations(['Hello. ', undefined, 'Bye.'], grounding)).toEqual([
      cite('https://a.example', '', 7, 10),
    ]);
  });

  it('gives nothing for spans outside the text or empty, sources that are not web pages, and the same citation twice', () => {
    const grounding = {
      groundingChunks: [
        web('https://a.example', 'a'),
        { retrievedContext: { uri: 'gs://bucket/doc' } },
        web(''),
      ],
      groundingSupports: [
        support(0, 99, [0]),
        support(3, 3, [0]),
        support(0, 2, [1, 2, 7, -1]),
        support(0, 2, [0]),
        support(0, 2, [0]),
      ],
    };
    expect(geminiUrlCitations(['Hi!'], grounding)).toEqual([cite('https://a.example', 'a', 0, 2)]);
  });

  it('reads anything leniently: grounding of another shape gives no citation', () => {
    for (const grounding of [
      undefined,
      null,
      'x',
      [],
      {},
      { groundingSupports: {} },
      {
        groundingChunks: [web('https://a.example')],
        groundingSupports: [
          null,
          3,
          { segment: 'x' },
          { segment: { endIndex: '2' }, groundingChunkIndices: [0] },
        ],
      },
    ]) {
      expect(geminiUrlCitations(['Hello'], grounding)).toEqual([]);
    }
  });
});
