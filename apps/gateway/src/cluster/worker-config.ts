/** Sent by a starting worker: it asks the primary for the config to run. */
export const CONFIG_REQUEST_MESSAGE = 'switchyard:config-request';
/** The primary's answer to {@link CONFIG_REQUEST_MESSAGE}: the config it loaded and validated. */
export const CONFIG_MESSAGE = 'switchyard:config';

/** Whether an IPC message is a worker's {@link CONFIG_REQUEST_MESSAGE}. */
export function isConfigRequest(message: unknown): boolean {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === CONFIG_REQUEST_MESSAGE
  );
}

/**
 * In a cluster worker: the config the primary loaded and validated at start, over IPC (not the
 * environment, where a config's secrets would show in /proc/<pid>/environ). A worker never reads
 * the config file itself: one restarted after the file was edited runs what the other workers
 * run, not an edit no check has seen.
 */
export function receiveWorkerConfig<T>(): Promise<T> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) {
      reject(new Error('not a cluster worker: no IPC channel to the primary'));
      return;
    }
    const onMessage = (message: unknown): void => {
      if (
        typeof message !== 'object' ||
        message === null ||
        (message as { type?: unknown }).type !== CONFIG_MESSAGE
      )
        return;
      process.off('message', onMessage);
      resolve((message as { config: T }).config);
    };
    // listening first: the answer cannot come before there is a listener for it
    process.on('message', onMessage);
    process.send({ type: CONFIG_REQUEST_MESSAGE });
  });
}
