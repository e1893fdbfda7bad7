import type { DocCommand } from './doc-commands.js';

/** One curl call of a doc's command: its method and the path it asks for (no query string). */
export interface CurlCall {
  method: string;
  path: string;
}

/**
 * The curl calls of a command, in order: the method from `-X`, else `-I` (HEAD), else `-d`/`--data`
 * (POST), else GET; the path from the first `http(s)://…` URL of the call (the docs' server is
 * `localhost:8080`, or a made-up host where an example cannot run here). A shell variable in the
 * path (`/manage/tokens/$TOKEN_ID`) stays as written.
 */
export function curlCalls(command: string): CurlCall[] {
  const out: CurlCall[] = [];
  for (const part of command.split(/\bcurl\s/).slice(1)) {
    const url = /https?:\/\/[^/\s'"]+(\/[^\s'"?)]*)/.exec(part);
    if (!url?.[1]) continue;
    const explicit = /(?:^|\s)(?:-X|--request)\s+([A-Z]+)/.exec(part)?.[1];
    const method =
      explicit ??
      (/(?:^|\s)(?:-I|--head)\b/.test(part) ? 'HEAD' : /(?:^|\s)(?:-d|--data\S*)\s/.test(part) ? 'POST' : 'GET');
    out.push({ method, path: url[1] });
  }
  return out;
}

/** A route template (`/manage/tokens/{id}`) as a pattern that a written path matches. */
export function routePattern(template: string): RegExp {
  const body = template
    .split(/(\{[^}]+\}|\*)/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part === '*' ? '.+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** The route (`METHOD /template`) a call goes to, from `routes`; undefined when none matches. */
export function routeOf(call: CurlCall, routes: string[]): string | undefined {
  const method = call.method === 'HEAD' ? 'GET' : call.method;
  // A fixed path wins over a template (`/manage/tokens/batch` over `/manage/tokens/{id}`).
  const matching = routes.filter((r) => {
    const [m, template = ''] = r.split(' ');
    return (m === method || m === 'any') && routePattern(template).test(call.path);
  });
  return matching.sort((a, b) => a.split('{').length - b.split('{').length)[0];
}

/**
 * The routes a doc shows an example of: the last curl call of a command that the doc follows with
 * its output (a reply), or that the doc shows as a `$ ` line with its output below it.
 */
export function exemplified(commands: DocCommand[], routes: string[]): Set<string> {
  const out = new Set<string>();
  for (const c of commands) {
    const last = curlCalls(c.text).at(-1);
    if (!last || !c.output?.text.trim()) continue;
    const route = routeOf(last, routes);
    if (route) out.add(route);
  }
  return out;
}
