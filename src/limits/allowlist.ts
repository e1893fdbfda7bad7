/**
 * Allowlists of models and endpoints, as globs: `*` matches any run of characters (including `/`),
 * `?` one character; everything else matches itself, case-sensitively. Endpoint rules are
 * `METHOD /path-glob` or just `/path-glob` for any method.
 *
 * Matching never backtracks (a RegExp of `a*b*c` does, and takes quadratic time or worse on a
 * hostile input). The glob is cut at its stars into literal segments: the first must be a prefix,
 * the last a suffix, and those between are found left to right, each at its leftmost place after
 * the previous one (taking the leftmost place never loses a match, so there is no going back).
 * Cost for an input of n characters: segments without `?` use `indexOf` (linear for a first
 * occurrence); segments with `?` of up to 31 characters use a bit-parallel shift-and scan, O(n);
 * longer ones compare at each start, O(n × segment length). With globs of at most 200 characters
 * (the management API's bound), that is at worst linear in n with a small constant.
 */
export interface Glob {
  test(input: string): boolean;
}

export interface EndpointRule {
  method: string | undefined;
  path: Glob;
}

/** One literal piece of a glob between stars; `?` matches any one character. */
interface Segment {
  text: string;
  wild: boolean;
  /** Shift-and tables when `wild` and the segment fits in 31 bits. */
  masks?: Map<number, number>;
  anyMask?: number;
}

export function compileGlob(glob: string): Glob {
  const parts = glob.split('*').map(segment);
  if (parts.length === 1) {
    const only = parts[0] as Segment;
    return { test: (s) => s.length === only.text.length && matchesAt(s, only, 0) };
  }
  const first = parts[0] as Segment;
  const last = parts[parts.length - 1] as Segment;
  const middle = parts.slice(1, -1).filter((p) => p.text.length > 0);
  const fixed = first.text.length + last.text.length;
  return {
    test(s) {
      if (s.length < fixed || !matchesAt(s, first, 0) || !matchesAt(s, last, s.length - last.text.length)) {
        return false;
      }
      let from = first.text.length;
      const end = s.length - last.text.length;
      for (const seg of middle) {
        const at = find(s, seg, from, end);
        if (at === -1) return false;
        from = at + seg.text.length;
      }
      return true;
    },
  };
}

function segment(text: string): Segment {
  const wild = text.includes('?');
  if (!wild || text.length > 31) return { text, wild };
  // Bit i of a character's mask is set when position i of the segment accepts that character.
  const masks = new Map<number, number>();
  let anyMask = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 63) anyMask |= 1 << i;
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 63) masks.set(c, (masks.get(c) ?? anyMask) | (1 << i));
  }
  return { text, wild, masks, anyMask };
}

/** Whether `seg` matches `s` at position `at` (the caller has checked that it fits). */
function matchesAt(s: string, seg: Segment, at: number): boolean {
  if (!seg.wild) return s.startsWith(seg.text, at);
  const t = seg.text;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c !== 63 && c !== s.charCodeAt(at + i)) return false;
  }
  return true;
}

/** Leftmost start of `seg` in `s[from, end)`, or -1. */
function find(s: string, seg: Segment, from: number, end: number): number {
  const len = seg.text.length;
  if (!seg.wild) {
    const at = s.indexOf(seg.text, from);
    return at !== -1 && at + len <= end ? at : -1;
  }
  if (seg.masks) {
    // Shift-and: bit i of `state` says the last i+1 characters match the segment's first i+1.
    const masks = seg.masks;
    const anyMask = seg.anyMask as number;
    const done = 1 << (len - 1);
    let state = 0;
    for (let i = from; i < end; i++) {
      state = ((state << 1) | 1) & (masks.get(s.charCodeAt(i)) ?? anyMask);
      if (state & done) return i - len + 1;
    }
    return -1;
  }
  for (let at = from; at + len <= end; at++) if (matchesAt(s, seg, at)) return at;
  return -1;
}

export function compileModelRules(globs: string[] | null): Glob[] | null {
  return globs ? globs.map(compileGlob) : null;
}

export function compileEndpointRules(rules: string[] | null): EndpointRule[] | null {
  if (!rules) return null;
  return rules.map((rule) => {
    const [first, second] = rule.trim().split(/\s+/, 2);
    return second === undefined
      ? { method: undefined, path: compileGlob(first as string) }
      : { method: (first as string).toUpperCase(), path: compileGlob(second) };
  });
}

export const modelAllowed = (rules: Glob[], model: string): boolean => rules.some((r) => r.test(model));

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
