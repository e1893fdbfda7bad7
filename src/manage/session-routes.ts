import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { SessionsService } from '../access/sessions-service.js';
import type { SignedIn, SignIn } from '../access/sign-in.js';
import type { UsersService } from '../access/users-service.js';
import { errors } from '../errors.js';
import * as a from './access-schemas.js';
import { auditContext, clientInfo } from './audit-context.js';
import { clearCookie, SESSION_COOKIE, SESSION_COOKIE_PATH, setCookie } from './cookies.js';
import * as s from './schemas.js';

const tags = ['session'];
const errorsOf = { 400: s.errorBody, 401: s.errorBody, 429: s.errorBody };

export interface SessionRoutesOptions {
  signIn: SignIn;
  sessions: SessionsService;
  users: UsersService;
  oidcConfigured: boolean;
}

const SESSION_SAME_SITE = 'Strict';

/** The session cookie as the OpenAPI description tells it: from the values it is set with, so they cannot part. */
const SESSION_COOKIE_TEXT =
  `\`${SESSION_COOKIE}\` cookie (HttpOnly, SameSite=${SESSION_SAME_SITE}, Path=${SESSION_COOKIE_PATH}, ` +
  "Max-Age until the session's absolute expiry, Secure under TLS)";

/** Sets the session cookie of a new sign-in: it lives as long as the session can. */
export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, signedIn: SignedIn): void {
  const { row } = signedIn.session;
  setCookie(req, reply, SESSION_COOKIE, signedIn.secret, {
    path: SESSION_COOKIE_PATH,
    sameSite: SESSION_SAME_SITE,
    maxAge: (row.expires_at - row.created_at) / 1000,
  });
}

const sessionOf = (req: FastifyRequest) => {
  const session = req.principal?.session;
  if (!session) throw errors.sessionRequired();
  return session;
};

/** Signing in and out of the management API with a session cookie (the admin UI), and what sign-in offers. */
export const sessionRoutes =
  (o: SessionRoutesOptions): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/auth-methods',
      {
        schema: {
          tags,
          summary: 'How one can sign in here (no authentication)',
          security: [],
          response: { 200: a.authMethods },
        },
      },
      async () => ({ token: true, password: await o.users.anyEnabled(), oidc: o.oidcConfigured }),
    );

    app.post(
      '/session',
      {
        schema: {
          tags,
          summary: 'Sign in with the management token or a username and password',
          description:
            `Sets the ${SESSION_COOKIE_TEXT}. Failed attempts are audited and limited per client address and per ` +
            'username (ADMIN_SIGN_IN_ATTEMPTS_PER_MINUTE).',
          security: [],
          body: a.signInBody,
          response: { 200: a.sessionView, ...errorsOf },
        },
      },
      async (req, reply) => {
        const body = req.body;
        const signedIn =
          'token' in body
            ? await o.signIn.withToken(body.token, clientInfo(req))
            : await o.signIn.withPassword(body.username, body.password, clientInfo(req));
        setSessionCookie(req, reply, signedIn);
        return o.sessions.view(signedIn.session);
      },
    );

    const current = {
      schema: {
        tags,
        summary: 'The signed-in session (its user, role, CSRF token and expiry)',
        response: { 200: a.sessionView, 401: s.errorBody },
      },
    };
    app.get('/session', current, async (req) => o.sessions.view(sessionOf(req)));
    app.get(
      '/me',
      { schema: { ...current.schema, summary: 'The signed-in user (same as GET /manage/session)' } },
      async (req) => o.sessions.view(sessionOf(req)),
    );

    app.delete(
      '/session',
      {
        schema: {
          tags,
          summary: 'Sign out: ends the session on the server and clears the cookie',
          response: { 204: s.emptyBody, 401: s.errorBody, 403: s.errorBody },
        },
      },
      async (req, reply) => {
        const session = sessionOf(req);
        await o.sessions.end(session.row.id, auditContext(req), 'session.signed_out');
        clearCookie(req, reply, SESSION_COOKIE, SESSION_COOKIE_PATH, SESSION_SAME_SITE);
        return reply.code(204).send(null);
      },
    );
  };
