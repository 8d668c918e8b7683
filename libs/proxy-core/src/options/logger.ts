/** A log method in pino's shape: an object of fields, then an optional message. */
export type LogFn = (fields: object, message?: string) => void;

/** The subset of a pino logger the libraries use. Any pino instance satisfies it. */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop: LogFn = () => undefined;

/** The default logger: libraries stay silent unless given one. */
export const silentLogger: Logger = Object.freeze({
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
});
