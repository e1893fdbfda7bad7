/** How numbers, money, sizes and times read on the page. Pure functions: web/src/lib/format.test.ts. */

const int = new Intl.NumberFormat('en-US');
const compactFmt = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export const count = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : int.format(n));

/** 1234 → "1.2K"; small numbers as they are. */
export const compact = (n: number): string => (Math.abs(n) < 10_000 ? int.format(n) : compactFmt.format(n));

/**
 * US dollars from the API's exact decimal string or a number: cents for amounts of a dollar or
 * more, up to six decimals below (a request often costs a fraction of a cent).
 */
export function usd(v: string | number | null | undefined): string {
  if (v === null || v === undefined || v === '') return '–';
  const n = typeof v === 'string' ? Number(v) : v;
  if (!Number.isFinite(n)) return '–';
  if (n === 0) return '$0.00';
  const abs = Math.abs(n);
  const digits = abs >= 1 ? 2 : abs >= 0.01 ? 4 : 6;
  return `${n < 0 ? '-' : ''}$${abs.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: digits })}`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export const ms = (v: number | null | undefined): string =>
  v === null || v === undefined
    ? '–'
    : v >= 1000
      ? `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)} s`
      : `${Math.round(v)} ms`;

/** A span of time in words, two units at most: "3 d 4 h", "12 min", "45 s". */
export function span(msTotal: number): string {
  const s = Math.max(0, Math.round(msTotal / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return sec > 0 && m < 10 ? `${m} min ${sec} s` : `${m} min`;
  return `${sec} s`;
}

/** "in 3 h", "5 min ago", "just now". */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '–';
  const diff = Date.parse(iso) - now;
  if (Math.abs(diff) < 5_000) return 'just now';
  return diff > 0 ? `in ${span(diff)}` : `${span(-diff)} ago`;
}

const dateTimeFmt = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

export const dateTime = (iso: string | null | undefined): string => (iso ? dateTimeFmt.format(new Date(iso)) : '–');

export const percent = (part: number, whole: number): string =>
  whole <= 0 ? '–' : `${((100 * part) / whole).toFixed(part / whole < 0.1 && part > 0 ? 1 : 0)} %`;

/** "1 token", "3 tokens": a count and its noun (nouns whose plural adds an s). */
export const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
