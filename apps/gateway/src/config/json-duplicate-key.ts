const JSON_WHITESPACE = new Set([' ', '\t', '\r', '\n']);

/**
 * Where valid JSON `text` first gives a key twice in one object (the offset of the second's
 * opening quote), or undefined. `JSON.parse` keeps the last of them without a word, so a second
 * `admin` section would silently replace the first (its master key gone, the gateway open);
 * yaml refuses the same file with DUPLICATE_KEY, and a config file reads alike in either form.
 * Keys are compared as parsed (`"b"` and `"\u0062"` are one key). Only for text that parses.
 */
export function duplicateJsonKey(text: string): number | undefined {
  // per open container: the keys of an object so far, undefined for an array
  const open: (Set<string> | undefined)[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char === '"') {
      const start = index;
      index += 1;
      while (text[index] !== '"') index += text[index] === '\\' ? 2 : 1;
      index += 1;
      let next = index;
      while (JSON_WHITESPACE.has(text.charAt(next))) next += 1;
      const keys = open.at(-1);
      // in an object, a string is a key when a colon follows it (a value is followed by , or })
      if (keys !== undefined && text[next] === ':') {
        const key = JSON.parse(text.slice(start, index)) as string;
        if (keys.has(key)) return start;
        keys.add(key);
      }
      continue;
    }
    if (char === '{') open.push(new Set());
    else if (char === '[') open.push(undefined);
    else if (char === '}' || char === ']') open.pop();
    index += 1;
  }
  return undefined;
}
