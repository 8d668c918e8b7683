import { SwitchyardError, toSwitchyardError } from '@switchyard/proxy-core';

/** One Ajv error, as Fastify gives it in `validation`. */
interface SchemaError {
  instancePath?: string;
  schemaPath?: string;
  keyword?: string;
  params?: Record<string, unknown>;
  message?: string;
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  validation?: SchemaError[];
  validationContext?: string;
  message?: string;
}

/** What a validation failure is reported as: one error, or the values a field may take. */
type Problem =
  | { readonly kind: 'error'; readonly error: SchemaError }
  | { readonly kind: 'one-of'; readonly path: string; readonly allowed: readonly string[] };

const UNIONS: ReadonlySet<string | undefined> = new Set(['anyOf', 'oneOf']);
// failures that say the value is of another kind than the alternative wants
const MISMATCHES: ReadonlySet<string | undefined> = new Set(['type', 'const', 'enum']);

/**
 * The errors of each alternative of a failed union `union` (Ajv reports them before the union's
 * own error, their schema paths under its own), in the order of the alternatives.
 */
function alternativesOf(errors: readonly SchemaError[], union: SchemaError): SchemaError[][] {
  const prefix = `${union.schemaPath ?? ''}/`;
  const groups = new Map<string, SchemaError[]>();
  for (const error of errors) {
    if (error === union || error.schemaPath?.startsWith(prefix) !== true) continue;
    const branch = error.schemaPath.slice(prefix.length).split('/')[0] ?? '';
    const group = groups.get(branch);
    if (group === undefined) groups.set(branch, [error]);
    else group.push(error);
  }
  return [...groups.entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([, group]) => group);
}

function isChildOf(path: string | undefined, parent: string): boolean {
  return path !== undefined && path.startsWith(`${parent}/`) && !path.slice(parent.length + 1).includes('/');
}

/**
 * How far the value got into one alternative (its errors), a union at `at`: 0, it is of another
 * kind (another JSON type, another constant); 1, an object of another kind (a constant member
 * such as `type` differs); 2, of this kind, failing further in (the alternative it was meant for).
 */
function progress(errors: readonly SchemaError[], at: string): number {
  const last = errors.at(-1);
  if (last === undefined) return 2;
  if (UNIONS.has(last.keyword) && last.instancePath === at) {
    const alternatives = alternativesOf(errors, last);
    return alternatives.length === 0 ? 2 : Math.max(...alternatives.map((group) => progress(group, at)));
  }
  if (last.instancePath === at && MISMATCHES.has(last.keyword)) return 0;
  if ((last.keyword === 'const' || last.keyword === 'enum') && isChildOf(last.instancePath, at)) return 1;
  return 2;
}

function allowedOf(error: SchemaError): string[] {
  if (error.keyword === 'const') return [String(error.params?.['allowedValue'])];
  const values = error.params?.['allowedValues'] ?? error.params?.['type'];
  return (Array.isArray(values) ? values : String(values).split(',')).map(String);
}

/** What the alternatives of progress `level` (0 or 1) allow, with the path that says it. */
function allowedBy(
  errors: readonly SchemaError[],
  at: string,
  level: number,
  found: { path?: string; values: string[] },
): void {
  const last = errors.at(-1);
  if (last === undefined || progress(errors, at) !== level) return;
  if (UNIONS.has(last.keyword) && last.instancePath === at) {
    for (const group of alternativesOf(errors, last)) allowedBy(group, at, level, found);
    return;
  }
  found.path ??= last.instancePath;
  if (last.instancePath !== found.path) return;
  for (const value of allowedOf(last)) if (!found.values.includes(value)) found.values.push(value);
}

/**
 * The problem to report of a failed validation. Ajv stops at the first failure, so a union's
 * failure comes last, after the errors of each of its alternatives; the first of those is the
 * first alternative's, often of another kind than the value (`stop` of 5 items read "must be
 * string"). Reported instead: the error of the alternative the value got furthest in (of its JSON
 * type, its `type` member), or, when the value is of no alternative's kind, the values and types
 * the alternatives allow.
 */
function problemIn(errors: readonly SchemaError[]): Problem | undefined {
  const last = errors.at(-1);
  if (last === undefined) return undefined;
  if (!UNIONS.has(last.keyword)) return { kind: 'error', error: errors[0] ?? last };
  const at = last.instancePath ?? '';
  const alternatives = alternativesOf(errors, last);
  if (alternatives.length === 0) return { kind: 'error', error: last };
  const levels = alternatives.map((group) => progress(group, at));
  const best = Math.max(...levels);
  if (best === 2) return problemIn(alternatives[levels.indexOf(2)] ?? []);
  const found: { path?: string; values: string[] } = { values: [] };
  for (const group of alternatives) allowedBy(group, at, best, found);
  return { kind: 'one-of', path: found.path ?? at, allowed: found.values };
}

function paramOf(problem: Problem | undefined): string | undefined {
  if (problem === undefined) return undefined;
  const at = problem.kind === 'error' ? problem.error.instancePath : problem.path;
  const path = (at ?? '').replace(/^\//, '').replace(/\//g, '.');
  if (problem.kind === 'one-of') return path || undefined;
  const params = problem.error.params;
  const missing = params?.['missingProperty'] ?? params?.['additionalProperty'];
  if (typeof missing === 'string') return path ? `${path}.${missing}` : missing;
  return path || undefined;
}

/** "a", "a or b", "a, b or c" */
function orList(values: readonly string[]): string {
  return values.length <= 1 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

/** What is wrong, in words: Ajv's message, with the allowed values of an enum, or an unknown name said plainly. */
function problemText(problem: Problem | undefined, where: string, context: string | undefined): string {
  if (problem?.kind === 'one-of') {
    const types = new Set(['string', 'number', 'integer', 'boolean', 'null', 'array', 'object']);
    const constants = problem.allowed.filter((value) => !types.has(value));
    const kinds = problem.allowed.filter((value) => types.has(value));
    if (constants.length === 0) return `${where} must be ${orList(kinds)}`;
    const also = kinds.length === 0 ? '' : `, or ${orList(kinds)}`;
    return `${where} must be one of: ${constants.join(', ')}${also}`;
  }
  const error = problem?.error;
  if (typeof error?.params?.['additionalProperty'] === 'string') {
    return `${where} is not a known ${context === 'querystring' ? 'query parameter' : 'field'}`;
  }
  const allowed = error?.params?.['allowedValues'];
  const message = error?.message ?? 'is invalid';
  return Array.isArray(allowed)
    ? `${where} ${message}: ${allowed.map(String).join(', ')}`
    : `${where} ${message}`;
}

/**
 * Maps anything a route or Fastify throws to a `SwitchyardError` with the right status:
 * schema failures 400, bad JSON 400, body too large 413, wrong media type 415; our own
 * errors keep theirs; anything else is an internal error with no detail leaked.
 */
export function toErrorReply(thrown: unknown): SwitchyardError {
  if (thrown instanceof SwitchyardError) return thrown;
  const error = (typeof thrown === 'object' && thrown !== null ? thrown : {}) as FastifyLikeError;
  if (error.validation !== undefined) {
    const problem = problemIn(error.validation);
    const param = paramOf(problem);
    const where = param === undefined ? 'body' : `'${param}'`;
    const text = problemText(problem, where, error.validationContext);
    return new SwitchyardError('invalid_request', `Invalid request: ${text}.`, {
      param,
      cause: thrown,
    });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SwitchyardError('request_too_large', 'The request body is too large.', { cause: thrown });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new SwitchyardError('invalid_request', 'Unsupported content type; send application/json.', {
        cause: thrown,
        status: 415,
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new SwitchyardError('invalid_request', 'The request body is empty; send a JSON object.', {
        cause: thrown,
      });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new SwitchyardError('invalid_request', 'The Content-Length header does not match the body.', {
        cause: thrown,
      });
    default:
      break;
  }
  if (
    thrown instanceof SyntaxError ||
    (error.statusCode === 400 && /JSON|prototype|constructor/i.test(error.message ?? ''))
  ) {
    return new SwitchyardError('invalid_request', 'The request body is not valid JSON.', { cause: thrown });
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new SwitchyardError('invalid_request', error.message ?? 'Bad request.', {
      cause: thrown,
      status: error.statusCode,
    });
  }
  return toSwitchyardError(thrown);
}
