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
  it('counts an attempt when it is admitted, blocks a key at its limit until the minute ends, refunds successes', () => {
    let now = 1_000_000;
    const limiter = new SignInLimiter(2, () => now);
    const admitted = (keys: string[]) => {
      const a = limiter.admit(keys);
      if (typeof a === 'number') throw new Error(`blocked for ${a} ms`);
      return a;
    };
    admitted(['ip:a', 'user:x']);
    const second = admitted(['ip:a']); // not yet judged: it counts already
    expect(limiter.admit(['ip:a', 'user:x'])).toBe(60_000);
    // Another address with user:x: its second failure, let through, then user:x is blocked from everywhere.
    expect(limiter.admit(['ip:b', 'user:x'])).not.toBeTypeOf('number');
    expect(limiter.admit(['ip:c', 'user:x'])).toBe(60_000);
    second.refund(); // it was right after all
    second.refund(); // once only
    const third = admitted(['ip:a']);
    expect(limiter.admit(['ip:a'])).toBe(60_000);
    now += 59_000;
    expect(limiter.admit(['ip:a'])).toBe(1_000);
    now += 1_000;
    third.refund(); // from the window that ended: the new one does not lose a failure
    admitted(['ip:a']);
    admitted(['ip:a']);
    expect(limiter.admit(['ip:a'])).toBe(60_000);
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
    const verified = (email: string) => ({ email, email_verified: true });
    expect(role(verified('A@x.io'))).toBe('viewer');
    expect(role(verified('b@corp.example'))).toBe('viewer');
    expect(role(verified('b@sub.corp.example'))).toBeUndefined();
    expect(role({ ...verified('a@x.io'), groups: ['ops'] })).toBe('operator');
    expect(role({ groups: ['ops', 'admins'] })).toBe('admin');
    expect(role({ groups: 'staff ops' })).toBe('operator');
    for (const email_verified of [false, 'false', 'true', 1, undefined])
      expect(role({ email: 'a@x.io', email_verified })).toBeUndefined();
    expect(role({ ...verified('z@y.io'), groups: ['staff'] })).toBeUndefined();
  });
});
