/** A JSON text laid out for reading: re-indented, every string and number copied as stored. */
export interface JsonLayout {
  text: string;
  /** The text ends inside its JSON: a body the request log cut at its size limit. */
  cut: boolean;
}

/** What the text must go on with: a value, an object's key, the colon after it, `,` or a close, nothing. */
type Expect = 'value' | 'key' | 'colon' | 'next' | 'end';

const INDENT = '  ';
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** What a number cut short can end as (`1.`, `-`, `2e+`). */
const NUMBER_START = /^-?(?:(?:0|[1-9]\d*)(?:\.\d*|(?:\.\d+)?(?:[eE][+-]?\d*)?)?)?$/;
const LITERALS = ['true', 'false', 'null'] as const;
/** The characters a number or a literal is made of; anything else ends it. */
const BARE = /[\w+.-]/;

/**
 * Lays out a JSON text as `JSON.stringify(value, null, 2)` would, without parsing it: a parse
 * rounds integers past 2^53 and keeps one of two duplicate keys, so the page would show another
 * body than the one stored. Undefined when the text is not JSON (show it as stored); `cut` when
 * it is the start of a JSON text that ends too soon.
 */
export function layoutJson(text: string): JsonLayout | undefined {
  const out: string[] = [];
  const open: ('{' | '[')[] = [];
  let expect: Expect = 'value';
  let i = 0;
  const n = text.length;
  const newline = (): string => `\n${INDENT.repeat(open.length)}`;
  const skipSpace = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const cut = (): JsonLayout => ({ text: out.join(''), cut: true });
  // what follows a value: more of its object or array, or nothing
  const afterValue = (): Expect => (open.length === 0 ? 'end' : 'next');

  for (;;) {
    skipSpace();
    if (i >= n) break;
    const c = text[i];
    if (expect === 'end') return undefined;
    if (expect === 'colon') {
      if (c !== ':') return undefined;
      out.push(': ');
      i++;
      expect = 'value';
    } else if (expect === 'next') {
      const inObject = open.at(-1) === '{';
      if (c === ',') {
        out.push(`,${newline()}`);
        i++;
        expect = inObject ? 'key' : 'value';
      } else if (c === (inObject ? '}' : ']')) {
        open.pop();
        out.push(`${newline()}${c}`);
        i++;
        expect = afterValue();
      } else return undefined;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      if (end === undefined) return undefined;
      if (end === n + 1) {
        out.push(text.slice(i));
        return cut();
      }
      out.push(text.slice(i, end));
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
        out.push(c + close);
        i++;
        expect = afterValue();
      } else {
        open.push(c);
        out.push(c + newline());
        expect = c === '{' ? 'key' : 'value';
      }
    } else {
      // a number or a literal, copied as stored
      const start = i;
      while (i < n && BARE.test(text[i] ?? '')) i++;
      const token = text.slice(start, i);
      if (NUMBER.test(token) || (LITERALS as readonly string[]).includes(token)) {
        out.push(token);
        expect = afterValue();
      } else if (
        i === n &&
        token !== '' &&
        (NUMBER_START.test(token) || LITERALS.some((literal) => literal.startsWith(token)))
      ) {
        out.push(token);
        return cut();
      } else return undefined;
    }
  }
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
