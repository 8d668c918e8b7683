/** Where the first of some stop sequences occurs in a text: its index and which one. */
export interface StopMatch {
  index: number;
  sequence: string;
}

/** The earliest occurrence in `text` of any of `stops` (the longer one where two start at the same index). */
export function firstStop(text: string, stops: readonly string[]): StopMatch | undefined {
  let found: StopMatch | undefined;
  for (const sequence of stops) {
    const index = text.indexOf(sequence);
    if (index < 0) continue;
    if (
      found === undefined ||
      index < found.index ||
      (index === found.index && sequence.length > found.sequence.length)
    )
      found = { index, sequence };
  }
  return found;
}
