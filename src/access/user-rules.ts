/**
 * What a username and a password may be; the management API's schemas and the CLI check the same
 * rules. Usernames are lower-cased before they are checked and stored, so `Alice` and `alice` are
 * one user.
 */
export const USERNAME_MAX = 64;
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;

const USERNAME = /^[a-z0-9][a-z0-9._@+-]*$/;

export const normalizeUsername = (v: string): string => v.trim().toLowerCase();

export function usernameProblem(v: string): string | undefined {
  if (v.length === 0 || v.length > USERNAME_MAX) return `must be 1 to ${USERNAME_MAX} characters`;
  if (!USERNAME.test(v))
    return 'may hold only letters, digits and . _ @ + - (starting with a letter or digit), e.g. alice or alice@example.com';
  return undefined;
}

export function passwordProblem(v: string): string | undefined {
  if (v.length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (v.length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  return undefined;
}
