import { access, constants } from 'node:fs/promises';

/** Where the browser tests look for Chromium: `CHROMIUM_PATH`, else Debian's package. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * The Chromium executable for browser tests (driven by playwright-core), or undefined.
 * Missing under CI (`CI` set): throws, so the suite fails. Missing elsewhere: writes a loud
 * warning and returns undefined, for `describe.skipIf(chromium === undefined)`.
 * @example
 * const chromiumPath = await requireChromium();
 * describe.skipIf(chromiumPath === undefined)('in the browser', () => { ... });
 */
export async function requireChromium(): Promise<string | undefined> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
    return CHROMIUM_PATH;
  } catch {
    const message = `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;
    if (process.env['CI'] !== undefined && process.env['CI'] !== '')
      throw new Error(`${message}: the browser tests need it under CI.`);
    process.stderr.write(`\n!!! WARNING: ${message}; SKIPPING the browser tests. !!!\n\n`);
    return undefined;
  }
}
