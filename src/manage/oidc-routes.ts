import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { OIDC_STATE_TTL_MS, type OidcSignOn } from '../access/oidc.js';
import type { SignIn } from '../access/sign-in.js';
import { AppError, errors } from '../errors.js';
import * as a from './access-schemas.js';
import { clientInfo } from './audit-context.js';
import { clearCookie, cookieOf, OIDC_COOKIE, setCookie } from './cookies.js';
import * as s from './schemas.js';
import { setSessionCookie } from './session-routes.js';

const tags = ['session'];
const COOKIE_PATH = '/manage/oidc';
/** Where a browser lands once signed in. */
export const ADMIN_HOME = '/admin/';

/** OIDC_REDIRECT_URL, or this server's own callback as the browser reached it. */
const redirectUriOf = (req: FastifyRequest, configured: string | undefined) =>
  configured ?? `${req.protocol}://${req.host}/manage/oidc/callback`;

/** A browser (it asked for a page) is sent back to the admin UI with the error's code; other clients get the JSON error. */
const wantsPage = (req: FastifyRequest) => /\btext\/html\b/i.test(req.headers.accept ?? '');

/**
 * Single sign-on with an OpenID Connect provider: `/oidc/login` sends the browser to the provider,
 * `/oidc/callback` takes it back, verifies everything, signs the user in and sends them to the UI.
 */
export const oidcRoutes =
  (oidc: OidcSignOn | undefined, signIn: SignIn): FastifyPluginAsyncZod =>
  async (app) => {
    const configured = () => {
      if (!oidc) throw errors.oidcNotConfigured();
      return oidc;
    };

    app.get(
      '/oidc/login',
      {
        schema: {
          tags,
          summary: 'Start single sign-on: redirects to the identity provider',
          description:
            'Authorization code flow with PKCE (S256); state, nonce and verifier travel sealed in a 10-minute HttpOnly ' +
            '`llmp_oidc` cookie (SameSite=Lax, Path=/manage/oidc).',
          security: [],
          response: { 302: s.emptyBody, 404: s.errorBody, 502: s.errorBody },
        },
      },
      async (req, reply) => {
        const sso = configured();
        const { url, cookie } = await sso.begin(redirectUriOf(req, sso.settings.redirectUrl));
        setCookie(req, reply, OIDC_COOKIE, cookie, {
          path: COOKIE_PATH,
          sameSite: 'Lax',
          maxAge: OIDC_STATE_TTL_MS / 1000,
        });
        return reply.redirect(url, 302);
      },
    );

    app.get(
      '/oidc/callback',
      {
        schema: {
          tags,
          summary: "The identity provider's redirect back: signs in and redirects to /admin/",
          description:
            'Verifies the state, exchanges the code, verifies the ID token (issuer, audience, nonce, expiry, signature ' +
            'against the JWKS) and maps the user to a role. On failure a browser is redirected to ' +
            '`/admin/?sign_in_error=<code>`; other clients get the error as JSON.',
          security: [],
          querystring: a.oidcCallbackQuery,
          response: {
            302: s.emptyBody,
            400: s.errorBody,
            401: s.errorBody,
            403: s.errorBody,
            404: s.errorBody,
            502: s.errorBody,
          },
        },
      },
      async (req, reply) => {
        const sso = configured();
        const client = clientInfo(req);
        // As sent, every parameter (the schema only guarantees they are strings).
        const query = new URL(req.url, 'http://callback').searchParams;
        clearCookie(req, reply, OIDC_COOKIE, COOKIE_PATH, 'Lax');
        try {
          const outcome = await sso.complete(query, cookieOf(req, OIDC_COOKIE));
          const { identity } = outcome;
          const seen = {
            subject: identity.subject,
            email: identity.email ?? null,
            groups: identity.groups.slice(0, 50),
          };
          if (!outcome.user) {
            await signIn.failed(client, 'oidc', 'not_allowed', undefined, seen);
            throw errors.oidcNotAllowed();
          }
          setSessionCookie(req, reply, await signIn.withOidc(outcome.user, client, seen));
          return reply.redirect(ADMIN_HOME, 302);
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          if (err.code !== 'oidc_not_allowed') await signIn.failed(client, 'oidc', err.code);
          return failed(req, reply, err);
        }
      },
    );
  };

function failed(req: FastifyRequest, reply: FastifyReply, err: AppError) {
  if (!wantsPage(req)) throw err;
  return reply.redirect(`${ADMIN_HOME}?sign_in_error=${encodeURIComponent(err.code)}`, 302);
}
