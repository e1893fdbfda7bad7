/**
 * Allowlists of models and endpoints, as globs: `*` matches any run of characters (including `/`),
 * `?` one character. Endpoint rules are `METHOD /path-glob` or just `/path-glob` for any method.
 */
export interface EndpointRule {
  method: string | undefined;
  path: RegExp;
}

export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export function compileModelRules(globs: string[] | null): RegExp[] | null {
  return globs ? globs.map(globToRegExp) : null;
}

export function compileEndpointRules(rules: string[] | null): EndpointRule[] | null {
  if (!rules) return null;
  return rules.map((rule) => {
    const [first, second] = rule.trim().split(/\s+/, 2);
    return second === undefined
      ? { method: undefined, path: globToRegExp(first as string) }
      : { method: (first as string).toUpperCase(), path: globToRegExp(second) };
  });
}

export const modelAllowed = (rules: RegExp[], model: string): boolean => rules.some((r) => r.test(model));

export const endpointAllowed = (rules: EndpointRule[], method: string, path: string): boolean =>
  rules.some((r) => (r.method === undefined || r.method === method) && r.path.test(path));

/** Validates an endpoint rule for the management API; returns a message or undefined. */
export function endpointRuleProblem(rule: string): string | undefined {
  const parts = rule.trim().split(/\s+/);
  const path = parts.length === 2 ? parts[1] : parts[0];
  if (parts.length > 2 || !path?.startsWith('/')) return `"${rule}" is not "METHOD /path" or "/path"`;
  if (parts.length === 2 && !/^[A-Za-z]+$/.test(parts[0] as string)) return `"${parts[0]}" is not an HTTP method`;
  return undefined;
}
