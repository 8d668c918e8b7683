/** A JSON text laid out for reading: re-indented, every string and number copied as stored. */
export interface JsonLayout {
  text: string;
  /** The text ends inside its JSON: a body the request log cut at its size limit. */
  cut: boolean;
}

/** What the text must go on with: a value, an object's key, the colon after it, `,` or a close, nothing. */
type Expect = 'value' | 'key' | 'colon' | 'next' | 'end';

const INDENT = '  ';
/**
 * The deepest nesting laid out. Each line is indented by its depth, so the layout grows with the
 * square of the nesting: 2,000 levels (4,000 characters) made 8 million, 20,000 a string too
 * long for the engine. A body deeper than this is shown as stored.
 */
export const MAX_LAYOUT_DEPTH = 64;
/**
 * The longest layout, as a multiple of the stored text's length; past it the body is shown as
 * stored. Compact JSON of one-digit numbers seven levels deep grows about 8 times; 64 levels deep,
 * 65 times.
 */
export const MAX_LAYOUT_GROWTH = 16;
/** The layout of a short text may grow more than {@link MAX_LAYOUT_GROWTH} times: up to this many characters. */
const MIN_LAYOUT_BOUND = 16_384;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** What a number cut short can end as (`1.`, `-`, `2e+`). */
const NUMBER_START = /^-?(?:(?:0|[1-9]\d*)(?:\.\d*|(?:\.\d+)?(?:[eE][+-]?\d*)?)?)?$/;
const LITERALS = ['true', 'false', 'null'] as const;
/** The characters a number or a literal is made of; anything else ends it. */
const BARE = /[\w+.-]/;

/**
 * Lays out a JSON text as `JSON.stringify(value, null, 2)` would, without parsing it: a parse
 * rounds integers past 2^53 and keeps one of two duplicate keys, so the page would show another
 * body than the one stored. Undefined when the text is not JSON, nests deeper than
 * {@link MAX_LAYOUT_DEPTH} or would grow past {@link MAX_LAYOUT_GROWTH} times its length (show
 * it as stored); `cut` when it is the start of a JSON text that ends too soon.
 */
export function layoutJson(text: string): JsonLayout | undefined {
  const out: string[] = [];
  const open: ('{' | '[')[] = [];
  let expect: Expect = 'value';
  let i = 0;
  const n = text.length;
  // checked once a step: a step adds at most a line's indent and the token it copies
  const bound = Math.max(MIN_LAYOUT_BOUND, MAX_LAYOUT_GROWTH * n);
  let size = 0;
  const write = (part: string): void => {
    out.push(part);
    size += part.length;
  };
  const newline = (): string => `\n${INDENT.repeat(open.length)}`;
  const skipSpace = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const cut = (): JsonLayout | undefined => (size > bound ? undefined : { text: out.join(''), cut: true });
  // what follows a value: more of its object or array, or nothing
  const afterValue = (): Expect => (open.length === 0 ? 'end' : 'next');

  for (;;) {
    if (size > bound) return undefined;
    skipSpace();
    if (i >= n) break;
    const c = text[i];
    if (expect === 'end') return undefined;
    if (expect === 'colon') {
      if (c !== ':') return undefined;
      write(': ');
      i++;
      expect = 'value';
    } else if (expect === 'next') {
      const inObject = open.at(-1) === '{';
      if (c === ',') {
        write(`,${newline()}`);
        i++;
        expect = inObject ? 'key' : 'value';
      } else if (c === (inObject ? '}' : ']')) {
        open.pop();
        write(`${newline()}${c}`);
        i++;
        expect = afterValue();
      } else return undefined;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      if (end === undefined) return undefined;
      if (end === n + 1) {
        write(text.slice(i));
        return cut();
      }
      write(text.slice(i, end));
      i = end;
      if (expect === 'key') expect = 'colon';
      else expect = afterValue();
    } else if (expect === 'key') {
      return undefined;
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      skipSpace();
      if (text[i] === close) {
        write(c + close);
        i++;
        expect = afterValue();
      } else {
        if (open.length === MAX_LAYOUT_DEPTH) return undefined;
        open.push(c);
        write(c + newline());
        expect = c === '{' ? 'key' : 'value';
      }
    } else {
      // a number or a literal, copied as stored
      const start = i;
      while (i < n && BARE.test(text[i] ?? '')) i++;
      const token = text.slice(start, i);
      if (NUMBER.test(token) || (LITERALS as readonly string[]).includes(token)) {
        write(token);
        expect = afterValue();
      } else if (
        i === n &&
        token !== '' &&
        (NUMBER_START.test(token) || LITERALS.some((literal) => literal.startsWith(token)))
      ) {
        write(token);
        return cut();
      } else return undefined;
    }
  }
  if (size > bound) return undefined;
  if (expect === 'end') return { text: out.join(''), cut: false };
  if (out.length === 0) return undefined;
  // cut between tokens: without the layout that was to lead to the next one
  return { text: out.join('').trimEnd(), cut: true };
}

/**
 * The index after the string starting at `start` (its opening quote); `text.length + 1` when
 * the text ends inside it; undefined when it is not a JSON string (a raw control character, an
 * unknown escape).
 */
function stringEnd(text: string, start: number): number | undefined {
  const n = text.length;
  for (let j = start + 1; j < n; j++) {
    const code = text.charCodeAt(j);
    if (code === 0x22) return j + 1;
    if (code < 0x20) return undefined;
    if (code !== 0x5c) continue;
    const escape = text[j + 1];
    if (escape === undefined) return n + 1;
    if (escape === 'u') {
      const hex = text.slice(j + 2, j + 6);
      if (!/^[0-9a-fA-F]*$/.test(hex)) return undefined;
      if (hex.length < 4) return n + 1;
      j += 5;
    } else if ('"\\/bfnrt'.includes(escape)) j++;
    else return undefined;
  }
  return n + 1;
}
