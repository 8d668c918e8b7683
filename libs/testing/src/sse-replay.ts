import type { ServerResponse } from 'node:http';
import type { MockExchange } from './mock-upstream';
import { writeSse } from './sse';

/** One server-sent event to write. */
export interface SseFrame {
  /** The `event:` name, for providers that name their events (Anthropic). */
  event?: string;
  data: string;
}

/**
 * Writes SSE frames in order, honouring the exchange's stream fault: `cut-stream` drops the
 * connection after `afterChunks` frames, `stall-stream` stops writing with the connection
 * open, `stream-error` writes `errorFrame(message)` and ends. Does not end a clean stream.
 * @returns whether every frame was written (the caller then ends the stream its own way)
 */
export async function replaySse(
  res: ServerResponse,
  frames: SseFrame[],
  streamFault: MockExchange['streamFault'],
  errorFrame: (message: string | undefined) => SseFrame,
): Promise<boolean> {
  for (const [index, frame] of frames.entries()) {
    if (streamFault !== undefined && index === streamFault.afterChunks) {
      if (streamFault.kind === 'cut-stream') {
        // let what was written reach the client, then drop the connection mid-stream
        await new Promise<void>((resolve) => res.write('', () => resolve()));
        res.socket?.destroy();
        return false;
      }
      if (streamFault.kind === 'stall-stream') return false;
      const error = errorFrame('message' in streamFault ? streamFault.message : undefined);
      await writeSse(res, error.data, error.event);
      res.end();
      return false;
    }
    await writeSse(res, frame.data, frame.event);
  }
  return true;
}
