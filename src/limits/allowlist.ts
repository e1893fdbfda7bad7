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
  length: number;
  /** Character codes when the segment holds a `?` (as -1), else null (plain string search). */
  codes: Int32Array | null;
  /**
   * Shift-and masks for a `?` segment of up to 31 characters: bit i is set when position i accepts
   * the character. ASCII in a table, the rest in a map; characters in neither take `anyMask`.
   */
  ascii: Int32Array | null;
  other: Map<number, number> | null;
  anyMask: number;
}

export function compileGlob(glob: string): Glob {
  const parts = glob.split('*').map(segment);
  if (parts.length === 1) {
    const only = parts[0] as Segment;
    return { test: (s) => s.length === only.length && matchesAt(s, only, 0) };
  }
  const first = parts[0] as Segment;
  const last = parts[parts.length - 1] as Segment;
  const middle = parts.slice(1, -1).filter((p) => p.length > 0);
  const fixed = first.length + last.length;
  return {
    test(s) {
      if (s.length < fixed || !matchesAt(s, first, 0) || !matchesAt(s, last, s.length - last.length)) return false;
      let from = first.length;
      const end = s.length - last.length;
      for (const seg of middle) {
        const at = find(s, seg, from, end);
        if (at === -1) return false;
        from = at + seg.length;
      }
      return true;
    },
  };
}

function segment(text: string): Segment {
  const seg: Segment = { text, length: text.length, codes: null, ascii: null, other: null, anyMask: 0 };
  if (!text.includes('?')) return seg;
  const codes = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    codes[i] = c === 63 ? -1 : c;
    if (c === 63) seg.anyMask |= 1 << i;
  }
  seg.codes = codes;
  if (text.length > 31) return seg;
  const ascii = new Int32Array(128).fill(seg.anyMask);
  const other = new Map<number, number>();
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] as number;
    if (c === -1) continue;
    if (c < 128) ascii[c] = (ascii[c] as number) | (1 << i);
    else other.set(c, (other.get(c) ?? seg.anyMask) | (1 << i));
  }
  seg.ascii = ascii;
  seg.other = other;
  return seg;
}

/** Whether `seg` matches `s` at position `at` (the caller has checked that it fits). */
function matchesAt(s: string, seg: Segment, at: number): boolean {
  const codes = seg.codes;
  if (codes === null) return s.startsWith(seg.text, at);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] as number;
    if (c !== -1 && c !== s.charCodeAt(at + i)) return false;
  }
  return true;
}

/** Leftmost start of `seg` in `s[from, end)`, or -1. */
function find(s: string, seg: Segment, from: number, end: number): number {
  const len = seg.length;
  if (seg.codes === null) {
    const at = s.indexOf(seg.text, from);
    return at !== -1 && at + len <= end ? at : -1;
  }
  const ascii = seg.ascii;
  if (ascii !== null) {
    // Shift-and: bit i of `state` says the last i+1 characters match the segment's first i+1.
    const other = seg.other as Map<number, number>;
    const done = 1 << (len - 1);
    let state = 0;
    for (let i = from; i < end; i++) {
      const c = s.charCodeAt(i);
      state = ((state << 1) | 1) & (c < 128 ? (ascii[c] as number) : (other.get(c) ?? seg.anyMask));
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
