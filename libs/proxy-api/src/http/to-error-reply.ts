import { SwitchyardError, toSwitchyardError } from '@switchyard/proxy-core';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  validation?: Array<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>;
  validationContext?: string;
  message?: string;
}

function paramOf(error: FastifyLikeError): string | undefined {
  const first = error.validation?.[0];
  if (first === undefined) return undefined;
  const path = (first.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const missing = first.params?.['missingProperty'] ?? first.params?.['additionalProperty'];
  if (typeof missing === 'string') return path ? `${path}.${missing}` : missing;
  return path || undefined;
}

/** What is wrong, in words: Ajv's message, with the allowed values of an enum, or an unknown name said plainly. */
function problemOf(error: FastifyLikeError, where: string): string {
  const first = error.validation?.[0];
  if (typeof first?.params?.['additionalProperty'] === 'string') {
    return `${where} is not a known ${error.validationContext === 'querystring' ? 'query parameter' : 'field'}`;
  }
  const allowed = first?.params?.['allowedValues'];
  const message = first?.message ?? 'is invalid';
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
    const param = paramOf(error);
    const where = param === undefined ? 'body' : `'${param}'`;
    return new SwitchyardError('invalid_request', `Invalid request: ${problemOf(error, where)}.`, {
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
