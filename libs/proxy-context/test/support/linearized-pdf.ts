/**
 * The bytes of a linearized ("Fast Web View") PDF of `pages` pages: its linearization
 * dictionary, whose `/L` is the file's length, then `padding` bytes standing for the rest.
 * `length` overrides `/L` (a file changed by an incremental update no longer matches it).
 */
export function linearizedPdf(pages: number, padding: number, length?: number): Buffer {
  const head = (l: number): Buffer =>
    Buffer.from(
      `%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Linearized 1 /L ${l} /H [ 620 180 ] /O 4 /E 4210 /N ${pages} /T ${Math.max(0, l - 400)} >>\nendobj\n`,
      'latin1',
    );
  // the length's own digits are part of the length: settle it
  let l = padding;
  for (let i = 0; i < 4; i++) l = head(l).length + padding;
  return Buffer.concat([head(length ?? l), Buffer.alloc(padding)]);
}
