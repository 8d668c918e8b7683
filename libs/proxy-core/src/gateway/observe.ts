import type { SyncHook } from 'tapable';
import type { Logger } from '../options/logger';

/**
 * Calls an observer hook without letting a failing tap break the request: observers are
 * told, never obeyed.
 */
export function observe<T extends unknown[]>(hook: SyncHook<T>, logger: Logger, ...args: T): void {
  if (!hook.isUsed()) return;
  try {
    (hook.call as (...a: T) => void)(...args);
  } catch (error) {
    logger.error({ err: error, hook: hook.name }, 'an observer hook tap threw; the request goes on');
  }
}
