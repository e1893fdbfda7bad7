import { describe, expect, it } from 'vitest';
import { productionHashCost } from '../../test/helpers/passwords.js';
import type { OidcConfig } from '../config/config.js';
import { identityOf, oidcRole } from './oidc-roles.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { SignInLimiter } from './sign-in-limiter.js';

describe('passwords', () => {
  it('hash with a salt of their own and verify; a wrong or malformed hash is false, never a throw', async () => {
    const [a, b] = await Promise.all([hashPassword('one password here'), hashPassword('one password here')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('one password here', a)).toBe(true);
    expect(await verifyPassword('one password herE', a)).toBe(false);
    for (const bad of ['', 'bcrypt$x', 'scrypt$32768$8$3$salt', 'scrypt$99999999$8$3$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA'])
      expect(await verifyPassword('x', bad)).toBe(false);
    // Unicode is compared in one normal form (é typed precomposed or combined).
    const h = await hashPassword('caf\u00e9-passphrase');
    expect(await verifyPassword('cafe\u0301-passphrase', h)).toBe(true);
  });

  it('are made at the production cost (the suite lowers it), and each verifies at the cost stored with it', async () => {
    const cheap = await hashPassword('one password here'); // at the suite's cost (test/helpers/setup.ts)
    productionHashCost();
    const dear = await hashPassword('one password here');
    expect(dear).toMatch(/^scrypt\$32768\$8\$3\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(cheap).not.toMatch(/^scrypt\$32768\$/);
    expect(await verifyPassword('one password here', cheap)).toBe(true);
    expect(await verifyPassword('one password herE', cheap)).toBe(false);
    expect(await verifyPassword('one password here', dear)).toBe(true);
  });
});

describe('the sign-in limiter', () => {
  it('blocks a key after its failures in a minute, until the minute ends', () => {
    let now = 1_000_000;
    const limiter = new SignInLimiter(2, () => now);
    limiter.failed(['ip:a', 'user:x']);
    expect(limiter.blockedFor(['ip:a'])).toBe(0);
    limiter.failed(['ip:a']);
    expect(limiter.blockedFor(['ip:a', 'user:x'])).toBe(60_000);
    expect(limiter.blockedFor(['ip:b', 'user:x'])).toBe(0);
    now += 59_000;
    expect(limiter.blockedFor(['ip:a'])).toBe(1_000);
    now += 1_000;
    expect(limiter.blockedFor(['ip:a'])).toBe(0);
  });
});

const settings: OidcConfig = {
  issuer: 'https://idp',
  clientId: 'c',
  clientSecret: undefined,
  redirectUrl: undefined,
  scopes: 'openid',
  allowedEmails: ['a@x.io', '@corp.example'],
  defaultRole: 'viewer',
  roleClaim: 'groups',
  groups: { admin: ['admins'], operator: ['ops'], viewer: [] },
};

describe('OIDC roles', () => {
  const role = (claims: Record<string, unknown>) => oidcRole(identityOf({ sub: 's', ...claims }, 'groups'), settings);
  it('takes the strongest of the groups and the allowed emails; refuses the rest', () => {
    expect(role({ email: 'A@x.io' })).toBe('viewer');
    expect(role({ email: 'b@corp.example' })).toBe('viewer');
    expect(role({ email: 'b@sub.corp.example' })).toBeUndefined();
    expect(role({ email: 'a@x.io', groups: ['ops'] })).toBe('operator');
    expect(role({ groups: ['ops', 'admins'] })).toBe('admin');
    expect(role({ groups: 'staff ops' })).toBe('operator');
    expect(role({ email: 'a@x.io', email_verified: false })).toBeUndefined();
    expect(role({ email: 'z@y.io', groups: ['staff'] })).toBeUndefined();
  });
});
