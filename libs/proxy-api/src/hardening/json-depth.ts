import { SwitchyardError } from '@switchyard/proxy-core';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * The deepest nesting of a JSON text, scanned without parsing (strings and escapes
 * skipped), stopping as soon as `limit` is passed.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c)
        index += 1; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
      continue;
    }
    if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === 0x7d || code === 0x5d) depth -= 1;
  }
  return false;
}

type ParserDone = (error: Error | null, body?: unknown) => void;

/**
 * Fastify's JSON parser (prototype and constructor poisoning rejected) behind a nesting
 * limit: deeper bodies get a 400 before any parse.
 */
export function depthLimitedJsonParser(
  app: FastifyInstance,
  maxDepth: number,
): (request: FastifyRequest, body: string | Buffer, done: ParserDone) => void {
  const parse = app.getDefaultJsonParser('error', 'error');
  return (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonDepthExceeds(text, maxDepth)) {
      done(new SwitchyardError('invalid_request', `The JSON body nests deeper than ${maxDepth} levels.`));
      return;
    }
    void parse(request, text, done);
  };
}
