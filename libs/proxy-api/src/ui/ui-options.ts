/** The admin web UI served at `/ui/`. */
export interface UiOptions {
  /**
   * Directory holding the built UI (`index.html` and content-hashed assets).
   * @default the `ui/` folder next to the package's built `dist/index.js`
   */
  assetsDir?: string;
}

/** The Content-Security-Policy of every UI response: own scripts, styles and API calls only. */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
