import type { SyncHook } from 'tapable';
import type { Logger } from '../options/logger';

/**
 * Calls an observer hook without letting a failing tap break the request or the taps after
 * it: observers are told, never obeyed. Each tap is called in its own `try`, in tap order:
 * tapable's compiled `call` stops at the first tap that throws, and the built-in taps (key
 * limits giving back a `max_parallel` slot, metrics, the request log) are tapped after the
 * plugins', so one plugin's bug skipped them on every request. A hook with interceptors is
 * called through tapable, which runs them.
 */
export function observe<T extends unknown[]>(hook: SyncHook<T>, logger: Logger, ...args: T): void {
  if (!hook.isUsed()) return;
  if (hook.interceptors.length > 0) {
    try {
      (hook.call as (...a: T) => void)(...args);
    } catch (error) {
      logger.error({ err: error, hook: hook.name }, 'an observer hook tap threw; the request goes on');
    }
    return;
  }
  for (const tap of hook.taps) {
    try {
      (tap.fn as (...a: T) => void)(...args);
    } catch (error) {
      logger.error(
        { err: error, hook: hook.name, tap: tap.name },
        'an observer hook tap threw; the other taps and the request go on',
      );
    }
  }
}
