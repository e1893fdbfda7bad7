import { useEffect, useState } from 'preact/hooks';

/** The UI lives under /admin/ (the server answers index.html for every page path below it). */
export const BASE = '/admin';

const listeners = new Set<() => void>();

/** The path below /admin ("/", "/tokens/abc") and the query of the current location. */
export function currentRoute(): { path: string; query: URLSearchParams } {
  const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return { path: p === '' ? '/' : p, query: new URLSearchParams(location.search) };
}

export const href = (path: string) => `${BASE}${path}`;

export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  const url = href(path);
  if (opts.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const fn of listeners) fn();
  if (!opts.replace) window.scrollTo(0, 0);
}

/** Replaces the query string (filters, paging) without a new history entry. */
export function setQuery(params: Record<string, string | undefined>): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  navigate(`${currentRoute().path}${s ? `?${s}` : ''}`, { replace: true });
}

/** Re-renders on navigation (links, back/forward). */
export function useRoute(): ReturnType<typeof currentRoute> {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/** Matches "/tokens/:id" against a path; returns the parameters or undefined. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const a = pattern.split('/');
  const b = path.replace(/\/$/, '').split('/');
  if (pattern !== '/' && a.length !== b.length) return undefined;
  if (pattern === '/') return path === '/' || path === '' ? {} : undefined;
  const out: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    const seg = a[i] as string;
    const val = b[i] as string;
    if (seg.startsWith(':')) out[seg.slice(1)] = decodeURIComponent(val);
    else if (seg !== val) return undefined;
  }
  return out;
}

/** Same-document navigation for plain left clicks on links inside the UI. */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element).closest('a');
    if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
    // In-page anchors (the skip link) keep the browser's own behaviour: scroll to and focus the target.
    if (a.hash && a.pathname === location.pathname && a.search === location.search) return;
    if (!a.pathname.startsWith(`${BASE}/`) && a.pathname !== BASE) return;
    e.preventDefault();
    navigate(a.pathname.slice(BASE.length) + a.search);
  });
}
