/**
 * A fault the mock upstream injects. `times` bounds how often it fires (default: always);
 * `match` narrows it to a path substring and/or a request `model`.
 */
export type MockFault = (
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Destroys the socket before answering. */
  | { kind: 'reset' }
  /** Never answers (until the client gives up). */
  | { kind: 'hang' }
  /** Streams `afterChunks` chunks, then destroys the socket. */
  | { kind: 'cut-stream'; afterChunks: number }
  /** Streams `afterChunks` chunks, then stalls with the connection open. */
  | { kind: 'stall-stream'; afterChunks: number }
  /**
   * Answers 200, then sends an error event after `afterChunks` chunks and ends. `error` replaces
   * the event's error object on OpenAI-shaped routes (default: a `server_error` with `message`).
   */
  | { kind: 'stream-error'; afterChunks: number; message?: string; error?: Record<string, unknown> }
  /** Streams normally but waits `delayMs` before each chunk after the first `afterChunks`. */
  | { kind: 'slow-stream'; delayMs: number; afterChunks?: number }
  /** Waits `ms` before answering normally. */
  | { kind: 'delay'; ms: number }
) & {
  match?: { path?: string; model?: string };
  times?: number;
};

/** Whether a fault applies to a request. */
export function faultMatches(fault: MockFault, path: string, model: string | undefined): boolean {
  if (fault.match?.path !== undefined && !path.includes(fault.match.path)) return false;
  if (fault.match?.model !== undefined && fault.match.model !== model) return false;
  return true;
}
