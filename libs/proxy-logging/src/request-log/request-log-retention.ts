import type { Logger } from '@switchyard/proxy-core';

/** What one retention pass did. */
export interface RetentionPass {
  deleted: number;
  /** The pass stopped at its cap with expired rows probably left: the next one runs at once. */
  more: boolean;
}

/** Options of {@link scheduleRetention}. */
export interface RetentionScheduleOptions {
  /** Runs one pass. */
  pass: () => Promise<RetentionPass>;
  /** Delay of the first pass after start-up, in milliseconds. */
  startDelayMs: number;
  /** Delay between passes that finished the work, in milliseconds. */
  intervalMs: number;
  logger?: Logger | undefined;
}

/** A running retention schedule. */
export interface RetentionSchedule {
  /** Stops scheduling passes (a pass running now finishes or fails on the closed store). */
  stop(): void;
}

/**
 * Runs retention passes on an unref'd timer: the first one soon after start-up (a process
 * restarted more often than `intervalMs` would otherwise never run one), then every
 * `intervalMs`, and right away again (after a turn of the event loop) while a pass hits its
 * cap, so deletes keep up with any insert rate instead of one capped pass an interval.
 */
export function scheduleRetention(options: RetentionScheduleOptions): RetentionSchedule {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const next = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(() => void run(), delayMs);
    timer.unref();
  };
  const run = async (): Promise<void> => {
    let delayMs = options.intervalMs;
    try {
      const { deleted, more } = await options.pass();
      if (deleted > 0) options.logger?.info({ deleted, more }, 'request log retention pass');
      if (more) delayMs = 0;
    } catch (error) {
      // a store closed under a running pass is shutdown, not a failure
      if (!stopped)
        options.logger?.warn({ err: { message: (error as Error).message } }, 'request log retention failed');
    }
    next(delayMs);
  };
  next(options.startDelayMs);
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
