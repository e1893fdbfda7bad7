/**
 * `Server-Timing` parsing (https://w3c.github.io/server-timing/): `name;dur=1.2;desc="x", name2;dur=3`.
 * The proxy appends `proxy;dur=<ms>, upstream;dur=<ms>` to whatever the upstream sent.
 */

/** Every metric with a numeric `dur`, by name (the last one wins when a name repeats). */
export function parseServerTiming(value: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of splitOutsideQuotes(value, ',')) {
    const params = splitOutsideQuotes(entry, ';');
    const name = params[0]?.trim();
    if (!name) continue;
    for (let i = 1; i < params.length; i++) {
      const param = params[i] ?? '';
      const eq = param.indexOf('=');
      if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== 'dur') continue;
      const raw = param
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      const dur = Number(raw);
      if (raw !== '' && Number.isFinite(dur)) out[name] = dur;
    }
  }
  return out;
}

function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted;
    else if (c === sep && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * The `dur` of one metric, or -1: the hot-path variant, no allocation beyond the number's text.
 * Matches `name` only as a whole metric name (at the start or after a comma).
 */
export function serverTimingDuration(value: string, name: string): number {
  let from = 0;
  for (;;) {
    const at = value.indexOf(name, from);
    if (at === -1) return -1;
    from = at + name.length;
    if (!isMetricStart(value, at)) continue;
    let i = skipSpaces(value, from);
    if (value.charCodeAt(i) !== 59 /* ; */) continue;
    // Walk the parameters of this metric up to the next comma.
    while (value.charCodeAt(i) === 59) {
      i = skipSpaces(value, i + 1);
      const paramEnd = nextOf(value, i);
      const eq = value.indexOf('=', i);
      if (eq !== -1 && eq < paramEnd && value.slice(i, eq).trim().toLowerCase() === 'dur') {
        const dur = Number(value.slice(eq + 1, paramEnd).trim());
        return Number.isFinite(dur) ? dur : -1;
      }
      i = paramEnd;
    }
  }
}

function isMetricStart(value: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (value.charCodeAt(i) === 32 || value.charCodeAt(i) === 9)) i--;
  return i < 0 || value.charCodeAt(i) === 44; /* , */
}

function skipSpaces(value: string, i: number): number {
  while (value.charCodeAt(i) === 32 || value.charCodeAt(i) === 9) i++;
  return i;
}

/** Index of the next `;` or `,` at or after i, or the end. */
function nextOf(value: string, i: number): number {
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 59 || c === 44) return i;
  }
  return value.length;
}
