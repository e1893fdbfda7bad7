import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

const OIDC = { OIDC_ISSUER: 'https://idp.example.com', OIDC_CLIENT_ID: 'llm-proxy', OIDC_ALLOWED_EMAILS: 'a@x.io' };

describe('sign-in and access settings', () => {
  it('defaults: 30 minutes idle, 12 hours at most, 10 failed sign-ins a minute, no proxy trusted, no SSO', () => {
    const c = loadConfig({}, {});
    expect(c.access).toEqual({
      sessionIdleMs: 30 * 60_000,
      sessionMaxMs: 12 * 3_600_000,
      signInAttemptsPerMinute: 10,
      oidc: undefined,
    });
    expect(c.trustProxy).toBe(false);
  });

  it('TRUST_PROXY takes a boolean or a list of addresses and CIDR ranges, and names what is wrong', () => {
    expect(loadConfig({}, { TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({}, { TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1,fd00::/8' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      'fd00::/8',
    ]);
    for (const bad of ['10.0.0.0/33', 'proxy.local', '1.2.3.4/8/9'])
      expect(() => loadConfig({}, { TRUST_PROXY: bad }), bad).toThrow(
        /TRUST_PROXY: ".+" is not an IP address or CIDR range/,
      );
  });

  it('OIDC: lists are split and emails lower-cased; groups per role', () => {
    const c = loadConfig({}, { ...OIDC, OIDC_ALLOWED_EMAILS: 'A@X.io, @Corp.example', OIDC_ADMIN_GROUPS: 'ops,root' });
    expect(c.access.oidc).toEqual({
      issuer: 'https://idp.example.com',
      clientId: 'llm-proxy',
      clientSecret: undefined,
      redirectUrl: undefined,
      scopes: 'openid email profile',
      allowedEmails: ['a@x.io', '@corp.example'],
      defaultRole: 'viewer',
      roleClaim: 'groups',
      groups: { admin: ['ops', 'root'], operator: [], viewer: [] },
    });
  });

  it('OIDC: refuses settings that cannot work', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ OIDC_CLIENT_ID: 'x' }, /OIDC_ISSUER: required by OIDC_CLIENT_ID/],
      [{ OIDC_ISSUER: 'https://idp.example.com', OIDC_ALLOWED_EMAILS: 'a@x.io' }, /OIDC_CLIENT_ID: required/],
      [{ OIDC_ISSUER: 'https://idp.example.com', OIDC_CLIENT_ID: 'x' }, /nobody can sign in/],
      [
        { ...OIDC, OIDC_ISSUER: 'http://idp.example.com' },
        /OIDC_ISSUER: expected an https:\/\/ URL \(http:\/\/ only on localhost/,
      ],
      [{ ...OIDC, OIDC_SCOPES: 'email profile' }, /OIDC_SCOPES: must include openid/],
      [{ ...OIDC, OIDC_DEFAULT_ROLE: 'root' }, /OIDC_DEFAULT_ROLE: expected one of viewer, operator, admin/],
      [{ ADMIN_SESSION_IDLE_MINUTES: '0' }, /ADMIN_SESSION_IDLE_MINUTES: expected a whole number from 1/],
    ];
    for (const [env, message] of cases) expect(() => loadConfig({}, env), JSON.stringify(env)).toThrow(message);
    expect(loadConfig({}, { ...OIDC, OIDC_ISSUER: 'http://127.0.0.1:4000' }).access.oidc?.issuer).toBe(
      'http://127.0.0.1:4000',
    );
  });
});
