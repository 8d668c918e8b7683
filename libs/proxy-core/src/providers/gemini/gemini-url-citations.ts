import type { ChatUrlCitation } from '../../wire/openai-chat';

// a lenient read: grounding comes in bodies the adapter does not check field by field
function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function offsetOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function utf8Length(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

/**
 * UTF-8 byte offsets into one string as its UTF-16 indices (JavaScript's, and OpenAI's
 * `start_index`/`end_index`), read in one walk for offsets asked in increasing order.
 */
class Utf8Offsets {
  #index = 0;
  #bytes = 0;

  constructor(private readonly text: string) {}

  /** The index of the character at `bytes` (one cut mid-character counts whole); undefined past the end. */
  indexOf(bytes: number): number | undefined {
    if (bytes < this.#bytes) {
      this.#index = 0;
      this.#bytes = 0;
    }
    while (this.#bytes < bytes && this.#index < this.text.length) {
      const codePoint = this.text.codePointAt(this.#index) as number;
      this.#bytes += utf8Length(codePoint);
      this.#index += codePoint > 0xffff ? 2 : 1;
    }
    return this.#bytes >= bytes ? this.#index : undefined;
  }
}

/** What makes a citation the same as another: its span and source. */
export function citationKey({
  url_citation: { url, title, start_index, end_index },
}: ChatUrlCitation): string {
  return JSON.stringify([start_index, end_index, url, title]);
}

/**
 * The web sources of one Gemini candidate as OpenAI's `url_citation` annotations: each
 * `groundingSupports` segment, once per web source (`groundingChunks[].web`) it names, with its
 * span as UTF-16 indices into the message's `content`. `texts` is the text each of the
 * candidate's parts put in the content, by part index (undefined for a part that put none: a
 * thought, a function call); Google gives a segment's offsets in UTF-8 bytes into the text of
 * its part (`partIndex`, the first by default). A segment whose part put no text, whose span
 * falls outside that text or is empty, or whose sources are not web pages gives none; the same
 * source and span is given once. Grounding of another shape gives none.
 * @see https://ai.google.dev/api/generate-content#GroundingSupport
 * @see https://platform.openai.com/docs/guides/tools-web-search?api-mode=chat
 */
export function geminiUrlCitations(
  texts: ReadonlyArray<string | undefined>,
  groundingMetadata: unknown,
): ChatUrlCitation[] {
  const grounding = objectOf(groundingMetadata);
  const supports = grounding?.['groundingSupports'];
  const chunks = grounding?.['groundingChunks'];
  if (!Array.isArray(supports) || !Array.isArray(chunks)) return [];
  // where each part's text starts in the content, and its offsets, made when a segment needs them
  const starts: number[] = [];
  let length = 0;
  for (const text of texts) {
    starts.push(length);
    length += text?.length ?? 0;
  }
  const offsets = new Map<number, Utf8Offsets>();
  const citations: ChatUrlCitation[] = [];
  const seen = new Set<string>();
  for (const support of supports as readonly unknown[]) {
    const segment = objectOf(objectOf(support)?.['segment']);
    const part = offsetOf(segment?.['partIndex']) ?? 0;
    const text = texts[part];
    const startBytes = offsetOf(segment?.['startIndex']) ?? 0;
    const endBytes = offsetOf(segment?.['endIndex']);
    if (text === undefined || endBytes === undefined || endBytes <= startBytes) continue;
    let partOffsets = offsets.get(part);
    if (partOffsets === undefined) offsets.set(part, (partOffsets = new Utf8Offsets(text)));
    const start = partOffsets.indexOf(startBytes);
    const end = partOffsets.indexOf(endBytes);
    if (start === undefined || end === undefined || end <= start) continue;
    const indices = objectOf(support)?.['groundingChunkIndices'];
    for (const index of Array.isArray(indices) ? (indices as readonly unknown[]) : []) {
      const chunk =
        offsetOf(index) === undefined ? undefined : (chunks as readonly unknown[])[index as number];
      const web = objectOf(objectOf(chunk)?.['web']);
      const url = web?.['uri'];
      if (typeof url !== 'string' || url.length === 0) continue;
      const title = typeof web?.['title'] === 'string' ? web['title'] : '';
      const citation: ChatUrlCitation = {
        type: 'url_citation',
        url_citation: {
          url,
          title,
          start_index: (starts[part] as number) + start,
          end_index: (starts[part] as number) + end,
        },
      };
      const key = citationKey(citation);
      if (seen.has(key)) continue;
      seen.add(key);
      citations.push(citation);
    }
  }
  return citations;
}
