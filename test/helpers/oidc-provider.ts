import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { registerSecret } from './secret-watch.js';

/** The claims of an account of the test provider (its id is the subject). */
export interface TestAccount {
  email?: string;
  /** A boolean by the standard; other values to see them refused. */
  email_verified?: boolean | string;
  preferred_username?: string;
  groups?: string[];
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Who the next sign-in at the provider will be (the test's stand-in for typing a password there). */
  signInAs(accountId: string): void;
  /** Requests to the token endpoint so far (each is one authorization code exchanged, or tried). */
  tokenRequests(): number;
  close(): Promise<void>;
}

/**
 * A real OpenID Connect provider (the `oidc-provider` package) on a random loopback port, with
 * accounts the test defines. Its login page is replaced by one that signs in the account chosen
 * with `signInAs` at once; consent is granted for the scopes asked, so a sign-in is the real
 * protocol (authorization endpoint, code, token endpoint, signed ID token, JWKS) without a form.
 */
export async function startOidcProvider(
  accounts: Record<string, TestAccount>,
  redirectUri: () => string,
): Promise<TestOidcProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let tokenRequests = 0;
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.split('?')[0] === '/token') tokenRequests += 1;
    handler ??= providerHandler(redirectUri());
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'llm-proxy-test';
  const clientSecret = `oidc-client-secret-${Math.random().toString(36).slice(2)}${Date.now()}`;
  registerSecret(clientSecret);
  let next: string | undefined;

  return {
    issuer,
    clientId,
    clientSecret,
    signInAs: (id) => {
      next = id;
    },
    tokenRequests: () => tokenRequests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  /** The provider, made at its first request: the relying party's callback URL is known by then. */
  function providerHandler(redirectUri: string) {
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username', 'groups'] },
      // The scopes' claims go in the ID token, which is what the relying party reads.
      conformIdTokenClaims: false,
      findAccount: async (_ctx, id) =>
        accounts[id] ? { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) } : undefined,
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      features: { devInteractions: { enabled: false } },
      // Consent for whatever was asked (no consent page in tests).
      loadExistingGrant: async (ctx) => {
        const grantId =
          ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client?.clientId ?? '');
        if (grantId) return ctx.oidc.provider.Grant.find(grantId);
        const grant = new ctx.oidc.provider.Grant({
          clientId: ctx.oidc.client?.clientId,
          accountId: ctx.oidc.session?.accountId,
        });
        grant.addOIDCScope('openid email profile');
        await grant.save();
        return grant;
      },
      cookies: { keys: ['test-cookie-key-aaaaaaaaaaaaaaaaaaaa'] },
    });
    const callback = provider.callback();
    return (req: IncomingMessage, res: ServerResponse) => {
      if (!req.url?.startsWith('/interaction/')) return callback(req, res);
      void (async () => {
        try {
          if (next === undefined) throw new Error('signInAs() was not called');
          await provider.interactionFinished(
            req,
            res,
            { login: { accountId: next } },
            { mergeWithLastSubmission: false },
          );
        } catch (err) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
        }
      })();
    };
  }
}

/** A browser's cookie jar, enough for two servers on one host (cookies ignore ports): names and paths. */
export class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  header(url: URL): string {
    return [...this.cookies]
      .filter(([, c]) => url.pathname.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((p) => p.trim());
      const eq = (pair as string).indexOf('=');
      const name = (pair as string).slice(0, eq);
      const value = (pair as string).slice(eq + 1);
      const path = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired = attrs.some((a) => /^max-age=0$/i.test(a) || /^expires=thu, 01 jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, { value, path });
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name)?.value;
  }
}

export interface Hop {
  url: string;
  status: number;
  location: string | null;
}

/**
 * Follows redirects as a browser does from `start`, with the jar, until a response that is not a
 * redirect or one to `stopAt` (a path on the relying party, e.g. /admin/). Returns every hop.
 */
export async function browse(
  jar: CookieJar,
  start: string,
  opts: { stopAt?: (url: URL) => boolean; rewrite?: (url: URL) => URL; accept?: string } = {},
): Promise<{ hops: Hop[]; last: Response }> {
  const hops: Hop[] = [];
  let url = new URL(start);
  for (let i = 0; i < 20; i++) {
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: jar.header(url), accept: opts.accept ?? 'text/html,application/xhtml+xml' },
    });
    jar.take(res);
    const location = res.headers.get('location');
    hops.push({ url: url.href, status: res.status, location });
    if (res.status < 300 || res.status >= 400 || !location) return { hops, last: res };
    let nextUrl = new URL(location, url);
    if (opts.rewrite) nextUrl = opts.rewrite(nextUrl);
    if (opts.stopAt?.(nextUrl)) return { hops, last: res };
    await res.arrayBuffer();
    url = nextUrl;
  }
  throw new Error(`too many redirects: ${JSON.stringify(hops)}`);
}
