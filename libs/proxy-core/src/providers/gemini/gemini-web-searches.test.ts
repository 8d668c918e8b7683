import { describe, expect, it } from 'vitest';
import { GeminiWebSearches } from './gemini-web-searches';

const grounded = (grounding: unknown, index = 0) => ({
  candidates: [{ index, groundingMetadata: grounding }],
});

function count(...responses: unknown[]): number {
  const searches = new GeminiWebSearches();
  for (const response of responses) searches.add(response);
  return searches.count;
}

describe('GeminiWebSearches', () => {
  it('counts each distinct non-empty query once, as Google bills them, over candidates and stream events', () => {
    // https://ai.google.dev/gemini-api/docs/google-search: empty queries are ignored, queries counted once
    expect(
      count(
        grounded({
          webSearchQueries: ['', 'best equity crowdfunding platforms 2026', '', 'Wefunder vs Republic'],
        }),
      ),
    ).toBe(2);
    expect(
      count(
        grounded({
          webSearchQueries: ['bitcoin price USD', 'ethereum price USD', 'bitcoin price USD', '  '],
        }),
      ),
    ).toBe(2);
    // a stream may repeat the metadata in several events, or split it
    expect(
      count(grounded({ webSearchQueries: ['a'] }), grounded({ webSearchQueries: ['a', 'b'] }), {
        candidates: [grounded({ webSearchQueries: ['c'] }, 1).candidates[0], {}],
      }),
    ).toBe(3);
  });

  it('counts one search for Search Suggestions that list no query, and none for web pages alone or other grounding', () => {
    expect(
      count(
        grounded({
          searchEntryPoint: { renderedContent: '<div></div>' },
          groundingChunks: [{ web: { uri: 'https://vertexaisearch.cloud.google.com/x', title: 'uefa.com' } }],
        }),
      ),
    ).toBe(1);
    // the URL context tool grounds in web pages too, with no Search Suggestions: no search ran
    expect(
      count(grounded({ groundingChunks: [{ web: { uri: 'https://example.com/a', title: 'a' } }] })),
    ).toBe(0);
    // a data store's documents (Vertex AI Search) or Maps' places are no Google Search
    expect(
      count(
        grounded({
          retrievalQueries: ['q'],
          groundingChunks: [{ retrievedContext: { uri: 'gs://b/doc' } }, { maps: { title: 'Cafe' } }],
        }),
      ),
    ).toBe(0);
  });

  it('counts no search when the queries listed are all empty, as Google bills none, whatever else grounds the answer', () => {
    expect(
      count(
        grounded({
          webSearchQueries: ['', ' '],
          groundingChunks: [{ web: { uri: 'https://vertexaisearch.cloud.google.com/x' } }],
        }),
      ),
    ).toBe(0);
    expect(
      count(grounded({ webSearchQueries: [''], searchEntryPoint: { renderedContent: '<div></div>' } })),
    ).toBe(0);
    // over a stream: the empty queries in one event, the Search Suggestions in another
    expect(
      count(
        grounded({ webSearchQueries: [''] }),
        grounded({ searchEntryPoint: { renderedContent: '<div></div>' } }),
      ),
    ).toBe(0);
  });

  it('reads anything leniently: an answer without grounding, or a body of another shape, adds nothing', () => {
    expect(
      count(
        undefined,
        null,
        'text',
        [],
        { candidates: 'x' },
        { candidates: [null, 3, { groundingMetadata: [] }] },
        grounded({ webSearchQueries: 'q', groundingChunks: {} }),
      ),
    ).toBe(0);
    expect(
      count({ candidates: [{ content: { parts: [{ text: 'no search' }] }, finishReason: 'STOP' }] }),
    ).toBe(0);
    expect(count(grounded({ webSearchQueries: [3, null, 'one'] }))).toBe(1);
  });
});
