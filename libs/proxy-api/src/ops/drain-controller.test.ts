import { describe, expect, it } from 'vitest';
import { DrainController } from './drain-controller';

describe('DrainController', () => {
  it('takes a listener per request in flight without a listener-leak warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    const drain = new DrainController(1000);
    const listeners = Array.from({ length: 50 }, () => () => undefined);
    try {
      for (const listener of listeners) drain.signal.addEventListener('abort', listener, { once: true });
    } finally {
      for (const listener of listeners) drain.signal.removeEventListener('abort', listener);
    }
    // warnings are emitted on a later tick
    await new Promise<void>((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning').map((warning) => warning.message)).toEqual([]);
  });
});
