/**
 * Allowlists of models and endpoints, as globs: `*` matches any run of characters (including `/`),
 * `?` one character; everything else matches itself, case-sensitively. Endpoint rules are
 * `METHOD /path-glob` or just `/path-glob` for any method.
 *
 * Matching never backtracks (a RegExp of `a*b*c` does, and takes quadratic time or worse on a
 * hostile input). The glob is cut at its stars into literal segments: the first must be a prefix,
 * the last a suffix, and those between are found left to right, each at its leftmost place after
 * the previous one (taking the leftmost place never loses a match, so there is no going back), so
 * the searches cover the input once between them. Segments without `?` use `indexOf` (V8's
 * Boyer-Moore: linear); segments with `?` a bit-parallel shift-and scan, one step per character
 * and 32 positions of the segment. For an input of n characters and a glob of L, a test costs at
 * most L + n × ⌈L / 32⌉ steps (`matchSteps` counts them); the bounds below keep that small:
 * see MAX_GLOB_LENGTH.
 */

/** Globs in one allowlist (a token's or a project's), as the management API takes them. */
export const MAX_GLOBS = 100;
/**
 * Characters in one glob or endpoint rule. With paths of at most 2,048 characters (the request
 * line's bound) and models of at most 256, one test is at most 200 + 2,048 × 7 = 14,536 steps.
 */
export const MAX_GLOB_LENGTH = 200;

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
  /** 32-bit words of a shift-and state for this segment: ⌈length / 32⌉. */
  words: number;
  /**
   * Shift-and masks, `words` per character: bit i of word w is set when position 32w + i accepts
   * the character. ASCII in a table (128 × words), the rest in a map; characters in neither take
   * `anyMask` (the `?` positions).
   */
  ascii: Int32Array | null;
  other: Map<number, Int32Array> | null;
  anyMask: Int32Array | null;
  /** The scan's state, reused: matching is synchronous, so one scan runs at a time. */
  state: Int32Array | null;
}

let steps = 0;

/**
 * Matching work done in this process so far, in steps: a character compared, or a character
 * scanned by a search (per 32-bit word of a shift-and state). A deterministic measure of what
 * matching costs, which tests hold to the bound above (time on a shared machine is not one).
 */
export function matchSteps(): number {
  return steps;
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
  const length = text.length;
  if (!text.includes('?')) {
    return { text, length, codes: null, words: 0, ascii: null, other: null, anyMask: null, state: null };
  }
  const words = Math.ceil(length / 32);
  const codes = new Int32Array(length);
  const anyMask = new Int32Array(words);
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    codes[i] = c === 63 ? -1 : c;
    if (c === 63) anyMask[i >>> 5] = (anyMask[i >>> 5] as number) | (1 << (i & 31));
  }
  const ascii = new Int32Array(128 * words);
  for (let c = 0; c < 128; c++) ascii.set(anyMask, c * words);
  const other = new Map<number, Int32Array>();
  for (let i = 0; i < length; i++) {
    const c = codes[i] as number;
    if (c === -1) continue;
    const at = i >>> 5;
    const bit = 1 << (i & 31);
    if (c < 128) {
      ascii[c * words + at] = (ascii[c * words + at] as number) | bit;
    } else {
      const m = other.get(c) ?? anyMask.slice();
      other.set(c, m);
      m[at] = (m[at] as number) | bit;
    }
  }
  return { text, length, codes, words, ascii, other, anyMask, state: new Int32Array(words) };
}

/** Whether `seg` matches `s` at position `at` (the caller has checked that it fits). */
function matchesAt(s: string, seg: Segment, at: number): boolean {
  steps += seg.length;
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
    steps += (at === -1 ? s.length : at + len) - from;
    return at !== -1 && at + len <= end ? at : -1;
  }
  // Shift-and: bit i of the state says the last i+1 characters match the segment's first i+1.
  const ascii = seg.ascii as Int32Array;
  const other = seg.other as Map<number, Int32Array>;
  const anyMask = seg.anyMask as Int32Array;
  const state = seg.state as Int32Array;
  const words = seg.words;
  const top = (len - 1) >>> 5;
  const done = 1 << ((len - 1) & 31);
  state.fill(0);
  for (let i = from; i < end; i++) {
    const c = s.charCodeAt(i);
    const masks = c < 128 ? ascii : (other.get(c) ?? anyMask);
    const base = c < 128 ? c * words : 0;
    // Shifted by one across the words: each word takes the top bit of the one below.
    let carry = 1;
    for (let w = 0; w < words; w++) {
      const was = state[w] as number;
      state[w] = ((was << 1) | carry) & (masks[base + w] as number);
      carry = was >>> 31;
    }
    if ((state[top] as number) & done) {
      steps += (i - from + 1) * words;
      return i - len + 1;
    }
  }
  steps += (end - from) * words;
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
