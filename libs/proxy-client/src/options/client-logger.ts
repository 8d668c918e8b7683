/** A log method in pino's shape: an object of fields, then an optional message. */
export type ClientLogFn = (fields: object, message?: string) => void;

/** The subset of a pino logger the client uses. Any pino instance satisfies it. */
export interface ClientLogger {
  debug: ClientLogFn;
  info: ClientLogFn;
  warn: ClientLogFn;
}

const noop: ClientLogFn = () => undefined;

/** The default logger: the client stays silent unless given one. */
export const silentClientLogger: ClientLogger = Object.freeze({ debug: noop, info: noop, warn: noop });
