const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed config tree (after
 * parsing, so a value can never inject YAML). An unset variable without a default is a
 * problem, reported with its path. The paths of the strings that held a reference are added
 * to `substituted`, so their fields can be given the type the schema wants; those of the
 * strings with an unset variable to `unset` (their value is a problem already).
 */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, problems: string[], path = '', substituted?: Set<string>, unset?: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
      substituted?.add(path);
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push(`${path || '/'}: environment variable ${name} is not set`);
      unset?.add(path || '/');
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolateEnv(item, env, problems, `${path}/${index}`, substituted, unset));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateEnv(item, env, problems, `${path}/${key}`, substituted, unset)]));
  }
  return value;
}
