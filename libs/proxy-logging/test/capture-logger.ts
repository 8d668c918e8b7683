import type { Logger } from '@switchyard/proxy-core';

/** One captured log call. */
export interface LogEntry {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string | undefined;
}

/** A logger that records every call, and lets a test await the first entry that matches. */
export function captureLogger(): {
  logger: Logger;
  entries: LogEntry[];
  next(match: (entry: LogEntry) => boolean): Promise<LogEntry>;
} {
  const entries: LogEntry[] = [];
  const waiters: Array<{ match: (entry: LogEntry) => boolean; resolve: (entry: LogEntry) => void }> = [];
  const at =
    (level: LogEntry['level']) =>
    (fields: object, message?: string): void => {
      const entry: LogEntry = { level, fields: fields as Record<string, unknown>, message };
      entries.push(entry);
      for (const waiter of [...waiters]) {
        if (!waiter.match(entry)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(entry);
      }
    };
  return {
    logger: {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
    },
    entries,
    next: (match) => new Promise((resolve) => waiters.push({ match, resolve })),
  };
}
