import { blankSecretProblem, envValue, envValueAsSet } from './env-value';

/** A well-formed reference at the start of a string: `${NAME}`, or `${NAME` then `:-`, `-`, `:?` or `?`. */
const LEADING_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?:\}|:?[-?])/;
/** The name and operator of a reference, read from just after its `${`. */
const REFERENCE_HEAD = /^([A-Za-z_][A-Za-z0-9_]*)(\}|:-|-|:\?|\?)?/;

// the fields holding a secret of the gateway's own access control, as SWITCHYARD_MASTER_KEY,
// SWITCHYARD_KEY_SECRET and SWITCHYARD_METRICS_TOKEN fill them: a blank variable there would fail
// open (or fall back to a default key), so it is refused rather than taken as unset
const SECRET_FIELD = /^\/(?:admin\/masterKey|admin\/keySecret|metrics\/token|keys\/\d+\/key)$/;

const FORMS = '${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message} or ${VAR?message}';

/**
 * Replaces the environment references of every string of a parsed config tree (after parsing,
 * so a value can never inject YAML), as a POSIX shell reads them:
 * - `${VAR}`: the variable; unset is a problem.
 * - `${VAR:-default}`: the default when the variable is unset (or empty or blank).
 * - `${VAR-default}`: the default only when the variable is not in the environment at all.
 * - `${VAR:?message}`: a problem with the message when the variable is unset (or empty or blank).
 * - `${VAR?message}`: a problem with the message only when the variable is not in the environment.
 * - `$${` is a literal `${`.
 *
 * Any other `${` (`${ VAR }`, `${VAR:=x}`, a nested `${A:-${B}}`, one without its `}`) is a
 * problem naming the path, never kept as text: a secret field would otherwise take the reference
 * itself as its value. Where the operator has no colon, a variable empty or blank counts as unset,
 * as everywhere the gateway reads one (`envValue`). A variable set to whitespace only in a secret
 * field (`admin.masterKey`, `admin.keySecret`, `metrics.token`, a `keys[].key`) is a problem,
 * default or not. Problems name the path and the variable, never a value. The paths of the
 * strings that held a reference are added to `substituted`, so their fields can be given the type
 * the schema wants; those of the strings with a problem to `unset` (their value is a problem
 * already).
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
    if (!value.includes('${')) return value;
    const found = interpolateText(value, env, SECRET_FIELD.test(path));
    if (found.referenced) substituted?.add(path);
    if (found.problem === undefined) return found.text;
    problems.push(`${path || '/'}: ${found.problem}`);
    unset?.add(path || '/');
    return '';
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

/** One string with its references replaced, else the first problem found in it. */
function interpolateText(
  text: string,
  env: NodeJS.ProcessEnv,
  secret: boolean,
): { text: string; referenced: boolean; problem?: string } {
  let out = '';
  let referenced = false;
  let index = 0;
  while (index < text.length) {
    const start = text.indexOf('${', index);
    if (start === -1) break;
    // `$${` is the escape for a literal `${`
    if (start > index && text[start - 1] === '$') {
      out += text.slice(index, start - 1) + '${';
      index = start + 2;
      continue;
    }
    out += text.slice(index, start);
    referenced = true;
    const malformed = {
      text: '',
      referenced,
      problem: `a "\${" that is no reference: write ${FORMS}, or $\${ for a literal "\${"`,
    };
    const head = REFERENCE_HEAD.exec(text.slice(start + 2));
    if (head === null || head[2] === undefined) return malformed;
    const [matched, name, operator] = head as unknown as [string, string, string];
    let end = start + 2 + matched.length;
    let word = '';
    if (operator !== '}') {
      const close = text.indexOf('}', end);
      if (close === -1) return malformed;
      word = text.slice(end, close);
      if (word.includes('${'))
        return {
          text: '',
          referenced,
          problem: `the reference to ${name} holds another reference: nested references are not supported`,
        };
      end = close + 1;
    }
    const resolved = resolveReference(name, operator, word, env, secret);
    if (resolved.problem !== undefined) return { text: '', referenced, problem: resolved.problem };
    out += resolved.value;
    index = end;
  }
  return { text: out + text.slice(index), referenced };
}

/** The value of one reference, else its problem (naming the variable, never its value). */
function resolveReference(
  name: string,
  operator: string,
  word: string,
  env: NodeJS.ProcessEnv,
  secret: boolean,
): { value: string; problem?: undefined } | { value?: undefined; problem: string } {
  const blankSecret = secret ? blankSecretProblem(env, name) : undefined;
  if (blankSecret !== undefined) return { problem: `environment variable ${blankSecret}` };
  // without a colon only a variable absent from the environment is unset, as in a shell
  const value = operator === '-' || operator === '?' ? envValueAsSet(env, name) : envValue(env, name);
  if (value !== undefined) return { value };
  switch (operator) {
    case ':-':
    case '-':
      return { value: word };
    case ':?':
    case '?':
      return {
        problem: `environment variable ${name} is not set${word.trim() === '' ? '' : `: ${word}`}`,
      };
    default:
      return { problem: `environment variable ${name} is not set` };
  }
}

/**
 * Whether a string of the file starts with a `${VAR}` reference, so that the environment chooses
 * its value (`store: "${LOG_STORE:-sqlite}"`), not only a part of it (`url: "sqlite:${DIR}/keys.db"`
 * is a SQLite store wherever it runs).
 */
export function startsWithReference(text: string): boolean {
  return LEADING_REFERENCE.test(text);
}
