import type { AuditTrail } from '../audit/audit-trail.js';
import { safeEqual } from '../crypto/secrets.js';
import { errors } from '../errors.js';
import { type AccessUser, MANAGEMENT_TOKEN_USER, type SignInMethod } from './principal.js';
import type { ClientInfo, LiveSession, SessionsService } from './sessions-service.js';
import type { Admitted, SignInLimiter } from './sign-in-limiter.js';
import { normalizeUsername } from './user-rules.js';
import type { UsersService } from './users-service.js';

export interface SignedIn {
  /** The cookie's value: for the Set-Cookie header only. */
  secret: string;
  session: LiveSession;
}

/**
 * Signing in, by management token, password or single sign-on: each success is a new session;
 * each failure is one `session.sign_in_failed` event and counts against the client's address (and
 * the username) in the limiter, which refuses further attempts for the rest of the minute. An
 * attempt is counted before its credentials are checked and given back if they were right, so
 * attempts sent all at once are limited as strictly as one after another. The caller hears only
 * "wrong credentials", whatever was wrong.
 */
export class SignIn {
  constructor(
    private readonly managementToken: string,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditTrail,
    private readonly limiter: SignInLimiter,
  ) {}

  async withToken(token: string, client: ClientInfo): Promise<SignedIn> {
    const attempt = await this.admit([`ip:${client.clientIp ?? ''}`], client, 'token');
    if (!safeEqual(token, this.managementToken)) {
      await this.failed(client, 'token', 'wrong_token');
      throw errors.invalidCredentials();
    }
    attempt.refund();
    return this.sessions.create(MANAGEMENT_TOKEN_USER, 'token', client);
  }

  async withPassword(username: string, password: string, client: ClientInfo): Promise<SignedIn> {
    const keys = [`ip:${client.clientIp ?? ''}`, `user:${normalizeUsername(username)}`];
    const attempt = await this.admit(keys, client, 'password');
    let result: Awaited<ReturnType<UsersService['verify']>>;
    try {
      result = await this.users.verify(username, password);
    } catch (err) {
      attempt.refund(); // not judged (the store failed): no failure of the user's
      throw err;
    }
    if ('refused' in result) {
      await this.failed(client, 'password', result.refused, result.user);
      throw errors.invalidCredentials();
    }
    attempt.refund();
    const { id, username: name, role } = result.user;
    return this.sessions.create({ id, username: name, role }, 'password', client, {}, (repos, now) =>
      repos.users.update(id, { last_sign_in_at: now }).then(() => undefined),
    );
  }

  /** A user the provider vouched for and the role mapping let in. */
  withOidc(user: AccessUser, client: ClientInfo, details: Record<string, unknown>): Promise<SignedIn> {
    return this.sessions.create(user, 'oidc', client, details);
  }

  /**
   * One `session.sign_in_failed` event. A username is recorded only when it names a user: a password
   * typed into the username field by mistake is not kept.
   */
  async failed(
    client: ClientInfo,
    method: SignInMethod,
    reason: string,
    user?: { id: string; username: string },
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await this.audit.append(
      { actor: { type: 'anonymous', id: null }, clientIp: client.clientIp, requestId: client.requestId },
      [
        {
          action: 'session.sign_in_failed',
          target: { type: 'user', id: user?.id ?? null },
          details: { method, reason, ...(user ? { username: user.username } : {}), ...details },
        },
      ],
    );
  }

  /**
   * Counts the attempt as a failure of its keys before anything is checked (synchronously: no other
   * request runs in between), or refuses it when a key has had its failures this minute.
   */
  private async admit(keys: string[], client: ClientInfo, method: SignInMethod): Promise<Admitted> {
    const admitted = this.limiter.admit(keys);
    if (typeof admitted !== 'number') return admitted;
    await this.failed(client, method, 'rate_limited');
    throw errors.signInRateLimited(admitted);
  }
}
