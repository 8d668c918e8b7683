/**
 * The offset from the browser's clock to the gateway's that a `Date` header implies; undefined
 * when there is none, or it does not parse. The header has whole seconds, and the answer took up
 * to `receivedAt - sentAt` to arrive: the gateway's clock read something in
 * `[date, date + 1000 + elapsed]` when it arrived. A browser clock inside that range is taken as
 * right (0: a clock off by less than the header can tell changes nothing); outside it, the offset
 * is to the range's end, so a window never ends before the gateway's now (a request made a
 * moment ago stays in "the last hour").
 */
export function clockOffsetMs(
  dateHeader: string | null,
  sentAt: number,
  receivedAt: number,
): number | undefined {
  if (dateHeader === null) return undefined;
  const date = Date.parse(dateHeader);
  if (Number.isNaN(date)) return undefined;
  const latest = date + 1000 + Math.max(0, receivedAt - sentAt);
  if (receivedAt >= date && receivedAt <= latest) return 0;
  return latest - receivedAt;
}
