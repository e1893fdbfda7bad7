import type { RouteOptions } from 'fastify';
import type { Role } from '../access/roles.js';

/**
 * Who may call each management route, by method and path (under /manage):
 * - `public`: anyone (the spec, the sign-in options, signing in, the single sign-on redirects);
 * - `session`: a signed-in browser session (the session's own routes);
 * - a role: the management token (always `admin`) or a session whose user has that role or a
 *   stronger one (`viewer` < `operator` < `admin`).
 * Viewers read everything but users and sessions (no route returns a secret); operators also issue,
 * update and revoke tokens (one, a batch, by filter, or all of a project's); admins also change
 * projects, upstream keys and pricing, and manage users and sessions.
 *
 * Every route must be listed: registering one that is not fails at start (and so every test), so a
 * new route cannot slip out without a rule. HEAD follows GET.
 */
export const ROUTE_ACCESS = {
  'GET /openapi.json': 'public',
  'GET /auth-methods': 'public',
  'POST /session': 'public',
  'GET /oidc/login': 'public',
  'GET /oidc/callback': 'public',
  'GET /session': 'session',
  'DELETE /session': 'session',
  'GET /me': 'session',

  'GET /projects': 'viewer',
  'GET /projects/:id': 'viewer',
  'POST /projects': 'admin',
  'PATCH /projects/:id': 'admin',
  'DELETE /projects/:id': 'admin',
  'POST /projects/:id/tokens/revoke': 'operator',
  'DELETE /projects/:id/cache': 'admin',
  'GET /projects/:id/keys': 'viewer',
  'POST /projects/:id/keys': 'admin',
  'PATCH /projects/:id/keys/:key_id': 'admin',
  'DELETE /projects/:id/keys/:key_id': 'admin',

  'GET /tokens': 'viewer',
  'GET /tokens/:id': 'viewer',
  'POST /tokens': 'operator',
  'POST /tokens/batch': 'operator',
  'POST /tokens/revoke': 'operator',
  'PATCH /tokens/:id': 'operator',
  'DELETE /tokens/:id': 'operator',

  'GET /usage': 'viewer',
  'GET /usage/overview': 'viewer',
  'GET /usage/records': 'viewer',
  'GET /usage/records/:id': 'viewer',
  'GET /pricing': 'viewer',
  'PUT /pricing/:model': 'admin',
  'DELETE /pricing/:model': 'admin',
  'GET /audit': 'viewer',
  'GET /instances': 'viewer',

  'GET /users': 'admin',
  'GET /users/:id': 'admin',
  'POST /users': 'admin',
  'PATCH /users/:id': 'admin',
  'DELETE /users/:id': 'admin',
  'GET /sessions': 'admin',
  'DELETE /sessions/:id': 'admin',
} as const satisfies Record<string, RouteAccess>;

export type RouteAccess = 'public' | 'session' | Role;

/** The rule of a route as Fastify registers it (`url` with the /manage prefix); undefined when it has none. */
export function accessOf(method: string, url: string, prefix = '/manage'): RouteAccess | undefined {
  const path = url.startsWith(prefix) ? url.slice(prefix.length) : url;
  const key = `${method === 'HEAD' ? 'GET' : method} ${path}`;
  return (ROUTE_ACCESS as Record<string, RouteAccess>)[key];
}

/**
 * onRoute hook of the management API: gives each route its rule (in its config, for the auth hook)
 * and says it in the OpenAPI description; a route without a rule throws, so the server cannot start.
 */
export function applyRouteAccess(route: RouteOptions): void {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const rules = new Set(methods.map((m) => accessOf(m, route.url)));
  const access = [...rules][0];
  if (access === undefined || rules.size !== 1)
    throw new Error(
      `management route ${methods.join(',')} ${route.url} has no rule in ROUTE_ACCESS (manage/route-access.ts)`,
    );
  route.config = { ...route.config, access };
  if (!route.schema || access === 'public') return;
  const who = access === 'session' ? 'a session cookie' : `the role \`${access}\` or a stronger one`;
  // A copy: GET and its HEAD route share one schema object.
  route.schema = {
    ...route.schema,
    description: `${route.schema.description ? `${route.schema.description}\n\n` : ''}Needs ${who}.`,
    ...(access === 'session'
      ? { security: [methods.includes('GET') ? { sessionCookie: [] } : { sessionCookie: [], csrfToken: [] }] }
      : {}),
  };
}
