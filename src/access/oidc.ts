import { LRUCache } from 'lru-cache';
import * as client from 'openid-client';
import type { OidcConfig } from '../config/config.js';
import type { Keyring } from '../crypto/keyring.js';
import { safeEqual } from '../crypto/secrets.js';
import { AppError, errors } from '../errors.js';
import type { Clock } from '../shared/clock.js';
import { identityOf, type OidcIdentity, oidcRole } from './oidc-roles.js';
import type { AccessUser } from './principal.js';

/** How long a sign-in may take at the provider: the state cookie is refused after this. */
export const OIDC_STATE_TTL_MS = 10 * 60_000;
/**
 * Callbacks remembered, to refuse a second one of the same sign-in: far more than come in the 10
 * minutes a sign-in lasts (past them its cookie is refused anyway). Should a flood of callbacks
 * push one out, the provider's single use of each code still refuses its replay.
 */
const MAX_USED_STATES = 10_000;

/** What the browser carries from /manage/oidc/login to the callback: encrypted and authenticated with the keyring. */
interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  expiresAt: number;
}

/** The result of a completed provider round trip: who it is, and the role they get (none: refused). */
export interface OidcOutcome {
  identity: OidcIdentity;
  user: AccessUser | undefined;
}

/** Errors of the provider's side (it refused, answered badly, could not be reached) versus of its ID token. */
const PROVIDER_SIDE = new Set([
  'OAUTH_RESPONSE_BODY_ERROR',
  'OAUTH_AUTHORIZATION_RESPONSE_ERROR',
  'OAUTH_RESPONSE_IS_NOT_CONFORM',
  'OAUTH_RESPONSE_IS_NOT_JSON',
  'OAUTH_WWW_AUTHENTICATE_CHALLENGE',
  'OAUTH_HTTP_REQUEST_FORBIDDEN',
  'OAUTH_TIMEOUT',
  'OAUTH_ABORT',
]);

function translate(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; message?: string; cause?: { message?: string }; error?: string };
  if (err instanceof client.AuthorizationResponseError || err instanceof client.ResponseBodyError)
    return errors.oidcProviderError(`${e.error ?? 'error'}${e.message ? ` (${e.message})` : ''}`);
  const detail = [e.message, e.cause?.message].filter(Boolean).join(': ') || 'unknown error';
  if (err instanceof TypeError || (e.code !== undefined && PROVIDER_SIDE.has(e.code)) || e.code === undefined)
    return errors.oidcProviderError(detail);
  return errors.oidcTokenInvalid(detail);
}

/**
 * OpenID Connect single sign-on with the authorization code flow and PKCE (S256). The provider's
 * metadata is discovered once (again after a failure). The state, nonce and PKCE verifier of a
 * sign-in travel in a short-lived cookie sealed with the keyring (AES-256-GCM), so any instance can
 * finish a sign-in another one began. The ID token is verified by openid-client: issuer, audience,
 * nonce, expiry, and (non-repudiation checks on) its signature against the provider's JWKS.
 *
 * A sign-in has one callback: its state is marked used before the code is exchanged, and a second
 * callback with it (a replay, a second tab, the back button) is refused without asking the
 * provider. The mark is this process's; on another instance the provider's refusal of a code used
 * twice (which the standard requires of it) is what refuses the replay.
 */
export class OidcSignOn {
  private discovered: Promise<client.Configuration> | undefined;
  /** The states whose callback has come, the latest first. */
  private readonly used = new LRUCache<string, true>({ max: MAX_USED_STATES });

  constructor(
    readonly settings: OidcConfig,
    private readonly keyring: Keyring,
    private readonly now: Clock,
  ) {}

  /** The provider's authorization URL and the sealed cookie value to set with the redirect. */
  async begin(redirectUri: string): Promise<{ url: string; cookie: string }> {
    const config = await this.config();
    const pending: PendingSignIn = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier: client.randomPKCECodeVerifier(),
      redirectUri,
      expiresAt: this.now() + OIDC_STATE_TTL_MS,
    };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.settings.scopes,
      response_type: 'code',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, cookie: this.keyring.encrypt(JSON.stringify(pending)) };
  }

  /**
   * Finishes a sign-in from the callback's query and the state cookie: checks the state, exchanges
   * the code (with the verifier) and verifies the ID token, then maps the user to a role.
   */
  async complete(query: URLSearchParams, cookie: string | undefined): Promise<OidcOutcome> {
    const pending = this.open(cookie);
    const state = query.get('state');
    if (state === null || !safeEqual(state, pending.state)) throw errors.oidcStateInvalid('the state does not match');
    // Checked and marked with no await in between: two callbacks at once cannot both pass.
    if (this.used.has(pending.state)) throw errors.oidcStateInvalid('this sign-in was completed already');
    this.used.set(pending.state, true);
    const config = await this.config();
    const current = new URL(pending.redirectUri);
    current.search = query.toString();
    let claims: Record<string, unknown> | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (err) {
      throw translate(err);
    }
    if (!claims) throw errors.oidcTokenInvalid('no ID token');
    const identity = identityOf(claims, this.settings.roleClaim);
    const role = oidcRole(identity, this.settings);
    return {
      identity,
      user: role === undefined ? undefined : { id: `oidc:${identity.subject}`, username: identity.username, role },
    };
  }

  private open(cookie: string | undefined): PendingSignIn {
    if (!cookie) throw errors.oidcStateInvalid('no sign-in in progress in this browser');
    let pending: PendingSignIn;
    try {
      pending = JSON.parse(this.keyring.decrypt(cookie)) as PendingSignIn;
    } catch {
      throw errors.oidcStateInvalid('the sign-in cookie is not valid');
    }
    if (typeof pending.expiresAt !== 'number' || this.now() >= pending.expiresAt)
      throw errors.oidcStateInvalid('the sign-in took longer than 10 minutes');
    return pending;
  }

  private config(): Promise<client.Configuration> {
    this.discovered ??= this.discover().catch((err: unknown) => {
      this.discovered = undefined;
      throw translate(err);
    });
    return this.discovered;
  }

  private async discover(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret } = this.settings;
    const config = await client.discovery(
      new URL(issuer),
      clientId,
      undefined,
      clientSecret === undefined ? client.None() : client.ClientSecretBasic(clientSecret),
      // Plain http passed the settings' check only on a loopback address (a provider on this machine).
      new URL(issuer).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined,
    );
    client.enableNonRepudiationChecks(config);
    return config;
  }
}
