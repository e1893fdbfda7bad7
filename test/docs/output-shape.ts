/**
 * The shape of a command's output, to compare a sample in the docs with a real run: the values
 * differ (ids, times, tokens, counts), the shape must not. The sample decides how to read both:
 * - JSON: every key path (`data[].id`, `usage.requests`), arrays by their first element;
 * - a record (`name  value` lines, as `project create` prints): its row names, in order;
 * - a table (a header line of column names): the column names;
 * - other text: the lines, with ids, tokens, times and numbers replaced by placeholders.
 * A sample that is none of these with certainty (JSON elided with `…`, `curl -i` headers) has no
 * shape, and the test says so instead of comparing.
 */
export type Shape =
  | { kind: 'json'; keys: string[] }
  | { kind: 'record'; keys: string[] }
  | { kind: 'table'; header: string[] }
  | { kind: 'text'; lines: string[] }
  | { kind: 'none'; why: string };

const ELIDED = '…';
/** Between the keys of a path (keys such as model names hold dots). */
const SEP = ' > ';

/**
 * Every key path of a JSON value; arrays by their first element, an empty array as `path[]`. An
 * object with a `"…"` key (a sample that leaves keys out) is marked open, as `path > …`.
 */
function keyPaths(value: unknown, prefix = '', out = new Set<string>()): Set<string> {
  const join = (k: string) => (prefix ? `${prefix}${SEP}${k}` : k);
  if (Array.isArray(value)) {
    if (value.length > 0) keyPaths(value[0], `${prefix}[]`, out);
    else out.add(`${prefix}[]`);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(join(k));
      if (k !== ELIDED) keyPaths(v, join(k), out);
    }
  }
  return out;
}

/**
 * The key paths of a sample and of a real output, the real ones as far as the sample shows them:
 * where the real output has an empty list (a fresh server has no usage yet), the sample's items are
 * not compared, only that the list is there; in an object the sample marks open (`"…"`), keys the
 * sample leaves out are not compared.
 */
function comparable(sample: Set<string>, real: Set<string>): [string[], string[]] {
  const empty = [...real].filter((p) => p.endsWith('[]') && !sample.has(p));
  const underEmpty = (p: string) => empty.some((e) => p.startsWith(e));
  const open = [...sample]
    .filter((p) => p === ELIDED || p.endsWith(`${SEP}${ELIDED}`))
    .map((p) => p.slice(0, -ELIDED.length));
  const leftOut = (p: string) =>
    open.some((o) => p.startsWith(o) && !sample.has(o + (p.slice(o.length).split(SEP)[0] ?? '').replace(/\[\]$/, '')));
  const s = [...sample].filter((p) => !underEmpty(p) && !p.endsWith(ELIDED));
  const shown = empty.filter((e) => [...sample].some((p) => p.startsWith(e)));
  return [[...new Set([...s, ...shown])].sort(), [...real].filter((p) => !leftOut(p)).sort()];
}

const RECORD_LINE = /^[a-z][a-z0-9_]*( {2,}\S.*| +-)?$/;
const columns = (line: string) => line.trim().split(/ {2,}/);
const isHeader = (line: string) => {
  const c = columns(line);
  return c.length >= 3 && c.every((x) => /^[a-z][a-z0-9_]*$/.test(x));
};

/** Values that differ from run to run, as placeholders. */
export function normalise(text: string): string[] {
  return text
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/sk-llmp-[\w…-]+/g, '<token>')
    .replace(/mgmt-[\w…-]+/g, '<management token>')
    .replace(/\d+(\.\d+)?/g, 'N')
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The shapes of a sample and of a real output, each read the way the sample reads. */
export function shapes(sample: string, lang: string, output: string): { sample: Shape; real: Shape } {
  const trimmed = sample.trim();
  const real = output.replace(/\r\n/g, '\n');
  if (trimmed === '') return both({ kind: 'none', why: 'no sample' });
  if (lang === 'json' || /^[[{]/.test(trimmed)) {
    const expected = parseJson(trimmed);
    if (expected === undefined) return both({ kind: 'none', why: 'the JSON sample is elided (not valid JSON)' });
    const value = parseJson(real.trim());
    if (value === undefined)
      return { sample: { kind: 'json', keys: [] }, real: { kind: 'json', keys: ['(not JSON)'] } };
    const [s, r] = comparable(keyPaths(expected), keyPaths(value));
    return { sample: { kind: 'json', keys: s }, real: { kind: 'json', keys: r } };
  }
  if (/^HTTP\/\d/.test(trimmed)) return both({ kind: 'none', why: 'HTTP headers (curl -i)' });
  const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
  if (lines(trimmed).length >= 3 && lines(trimmed).every((l) => RECORD_LINE.test(l))) {
    const keys = (text: string) => lines(text).map((l) => l.split(/\s+/)[0] ?? '');
    return { sample: { kind: 'record', keys: keys(trimmed) }, real: { kind: 'record', keys: keys(real) } };
  }
  if (/^[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*){2,}$/.test(lines(trimmed)[0] ?? '')) {
    const header = (text: string) => (lines(text)[0] ?? '').split(',');
    return { sample: { kind: 'table', header: header(trimmed) }, real: { kind: 'table', header: header(real) } };
  }
  if (lines(trimmed).some(isHeader)) {
    const header = (text: string) => columns(lines(text).find(isHeader) ?? '');
    return { sample: { kind: 'table', header: header(trimmed) }, real: { kind: 'table', header: header(real) } };
  }
  if (trimmed.includes('…')) return both({ kind: 'none', why: 'the sample is elided (…)' });
  return { sample: { kind: 'text', lines: normalise(trimmed) }, real: { kind: 'text', lines: normalise(real) } };
}

const both = (shape: Shape) => ({ sample: shape, real: shape });
