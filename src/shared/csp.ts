/**
 * The Content-Security-Policy of every Portwatch page (Electron window and web mode): only the app's own
 * scripts, styles and connections; no inline script, no eval, no plugins, no framing, no forms.
 * Pinned by a test: loosen it only on purpose.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');
