/**
 * The headers every admin page and asset is sent with. The CSP allows only this origin's own files:
 * no inline script or style (the build inlines nothing), no eval, nothing from elsewhere; the page
 * talks to /manage and /v1 on the same origin only, and no site may frame it (clickjacking).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const ADMIN_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // The page's addresses hold ids, never secrets, but nothing outside needs to see them.
  'referrer-policy': 'no-referrer',
  // Powerful features the UI never uses stay off, also for anything injected into it. Only features
  // browsers know: an unknown name (Web Bluetooth has no policy feature) makes Chromium log a warning
  // on every page (test/admin/ui-details.test.ts fails on any console message).
  'permissions-policy':
    'camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), hid=(), midi=(), interest-cohort=()',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};
