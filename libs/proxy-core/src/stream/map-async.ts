/** Maps each item of an async iterable as it arrives; stopping early stops the source. */
export async function* mapAsync<TIn, TOut>(
  source: AsyncIterable<TIn>,
  map: (item: TIn) => TOut,
): AsyncGenerator<TOut> {
  for await (const item of source) yield map(item);
}
