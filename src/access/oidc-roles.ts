import type { OidcConfig } from '../config/config.js';
import { ROLES, type Role, strongest } from './roles.js';

/** Who an OpenID Connect sign-in is, from the claims of its verified ID token. */
export interface OidcIdentity {
  subject: string;
  email: string | undefined;
  /** What the user is called here: the email, else preferred_username, else the subject. */
  username: string;
  groups: string[];
}

export function identityOf(claims: Record<string, unknown>, roleClaim: string): OidcIdentity {
  const subject = String(claims.sub);
  // Only an address the provider says it verified, with the boolean `true` the standard defines:
  // not "false" or "true" as text, and not an absent claim (some providers put any address the
  // user typed in `email` and say nothing; those let users in by group).
  const email =
    typeof claims.email === 'string' && claims.email_verified === true ? claims.email.toLowerCase() : undefined;
  const raw = claims[roleClaim];
  const groups = Array.isArray(raw)
    ? raw.filter((g): g is string => typeof g === 'string')
    : typeof raw === 'string'
      ? raw.split(/[\s,]+/).filter(Boolean)
      : [];
  const preferred = typeof claims.preferred_username === 'string' ? claims.preferred_username : undefined;
  return { subject, email, username: email ?? preferred ?? subject, groups };
}

/**
 * The role of a single sign-on user: the strongest that a group of theirs is mapped to
 * (OIDC_ADMIN_GROUPS, OIDC_OPERATOR_GROUPS, OIDC_VIEWER_GROUPS) or, when their verified email is in
 * OIDC_ALLOWED_EMAILS (or its @domain is), OIDC_DEFAULT_ROLE; undefined (refused) when neither.
 */
export function oidcRole(identity: OidcIdentity, settings: OidcConfig): Role | undefined {
  const roles: Role[] = ROLES.filter((r) => settings.groups[r].some((g) => identity.groups.includes(g)));
  const email = identity.email;
  if (email) {
    const domain = email.slice(email.lastIndexOf('@'));
    if (settings.allowedEmails.includes(email) || settings.allowedEmails.includes(domain))
      roles.push(settings.defaultRole);
  }
  return strongest(roles);
}
