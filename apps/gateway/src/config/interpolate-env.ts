import { blankSecretProblem, envValue } from './env-value';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const LEADING_REFERENCE = new RegExp(`^${REFERENCE.source}`);

// the fields holding a secret of the gateway's own access control, as SWITCHYARD_MASTER_KEY,
// SWITCHYARD_KEY_SECRET and SWITCHYARD_METRICS_TOKEN fill them: a blank variable there would fail
// open (or fall back to a default key), so it is refused rather than taken as unset
const SECRET_FIELD = /^\/(?:admin\/masterKey|admin\/keySecret|metrics\/token|keys\/\d+\/key)$/;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed config tree (after
 * parsing, so a value can never inject YAML). A variable empty or blank counts as unset, as
 * everywhere the gateway reads one (`envValue`): the default applies. An unset variable without
 * a default is a problem, reported with its path, and so is a variable set to whitespace only in
 * a secret field (`admin.masterKey`, `admin.keySecret`, `metrics.token`, a `keys[].key`), default
 * or not. The paths of the strings that held a reference are added to `substituted`, so their
 * fields can be given the type the schema wants; those of the strings with such a problem to
 * `unset` (their value is a problem already).
 */
export function interpolateEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: string[],
  path = '',
  substituted?: Set<string>,
  unset?: Set<string>,
): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
      substituted?.add(path);
      const found = envValue(env, name);
      if (found !== undefined) return found;
      const blankSecret = SECRET_FIELD.test(path) ? blankSecretProblem(env, name) : undefined;
      if (blankSecret === undefined && fallback !== undefined) return fallback;
      problems.push(`${path || '/'}: environment variable ${blankSecret ?? `${name} is not set`}`);
      unset?.add(path || '/');
      return '';
    });
  }
  if (Array.isArray(value))
    return value.map((item, index) =>
      interpolateEnv(item, env, problems, `${path}/${index}`, substituted, unset),
    );
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        interpolateEnv(item, env, problems, `${path}/${key}`, substituted, unset),
      ]),
    );
  }
  return value;
}

/**
 * Whether a string of the file starts with a `${VAR}` reference, so that the environment chooses
 * its value (`store: "${LOG_STORE:-sqlite}"`), not only a part of it (`url: "sqlite:${DIR}/keys.db"`
 * is a SQLite store wherever it runs).
 */
export function startsWithReference(text: string): boolean {
  return LEADING_REFERENCE.test(text);
}
