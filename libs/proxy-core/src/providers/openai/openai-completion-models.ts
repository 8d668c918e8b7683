/**
 * A test of upstream model names against `completionModels` entries: an exact name, or a
 * prefix ending in `*` (`"*"` alone matches every model).
 */
export function completionModelMatcher(patterns: readonly string[]): (model: string) => boolean {
  const exact = new Set(patterns.filter((pattern) => !pattern.endsWith('*')));
  const prefixes = patterns.filter((pattern) => pattern.endsWith('*')).map((pattern) => pattern.slice(0, -1));
  return (model) => exact.has(model) || prefixes.some((prefix) => model.startsWith(prefix));
}
