import type { ChatCompletionChunk } from '@switchyard/proxy-core';

/**
 * A cheap upper estimate of a chunk's serialised size in bytes (UTF-16), without
 * serialising it on the hot stream path: a fixed envelope plus the text it carries.
 */
export function chunkBytes(chunk: ChatCompletionChunk): number {
  let chars = 240 + chunk.id.length + chunk.model.length;
  for (const choice of chunk.choices) {
    const delta = choice.delta;
    chars += 64 + (delta.content?.length ?? 0) + (delta.refusal?.length ?? 0);
    for (const call of delta.tool_calls ?? []) {
      chars += 96 + (call.id?.length ?? 0) + (call.function?.name?.length ?? 0) + (call.function?.arguments?.length ?? 0);
    }
  }
  if (chunk.usage) chars += 200;
  return chars * 2;
}
