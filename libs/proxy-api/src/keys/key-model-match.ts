import type { VirtualKey } from './virtual-key';

/** Each key's compiled model list: a key record is replaced, never changed, when its list is. */
const matchers = new WeakMap<VirtualKey, (model: string) => boolean>();

/** Whether `key` may use `model` (its `models` list: aliases or `*` globs; empty, every model). */
export function keyAllowsModel(key: VirtualKey, model: string): boolean {
  let matcher = matchers.get(key);
  if (matcher === undefined) {
    matcher = compileModelMatcher(key.models);
    matchers.set(key, matcher);
  }
  return matcher(model);
}

/** Compiles a key's allowed-model list (aliases or `*` globs) into one predicate. */
export function compileModelMatcher(patterns: readonly string[]): (model: string) => boolean {
  if (patterns.length === 0) return () => true;
  const exact = new Set(patterns.filter((pattern) => !pattern.includes('*')));
  const globs = patterns.filter((pattern) => pattern.includes('*'));
  return (model) => exact.has(model) || globs.some((glob) => globMatches(glob, model));
}

/**
 * Whether `text` matches `glob`, whose `*` matches any characters (none included). Not a
 * regular expression: `.*` for each `*` backtracks, and a glob of several stars against a
 * model name the client picks (`-*-*-*-*-*x` against 200 dashes) held the event loop for
 * seconds. This walk goes back only to the last star, so it takes at most
 * `glob.length * text.length` steps.
 */
export function globMatches(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  // the last star seen, and the text position its match currently ends at
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (g < glob.length && glob[g] === '*') {
      star = g;
      g += 1;
      resume = t;
    } else if (g < glob.length && glob[g] === text[t]) {
      g += 1;
      t += 1;
    } else if (star >= 0) {
      // the last star takes one more character
      g = star + 1;
      resume += 1;
      t = resume;
    } else return false;
  }
  while (g < glob.length && glob[g] === '*') g += 1;
  return g === glob.length;
}
