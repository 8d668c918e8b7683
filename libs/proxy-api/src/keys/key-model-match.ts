/** Compiles a key's allowed-model list (aliases or `*` globs) into one predicate. */
export function compileModelMatcher(patterns: readonly string[]): (model: string) => boolean {
  if (patterns.length === 0) return () => true;
  const exact = new Set(patterns.filter((pattern) => !pattern.includes('*')));
  const globs = patterns
    .filter((pattern) => pattern.includes('*'))
    .map((pattern) => new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`));
  return (model) => exact.has(model) || globs.some((glob) => glob.test(model));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
