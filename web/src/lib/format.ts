/** How numbers, money, sizes and times read on the page. Pure functions: web/src/lib/format.test.ts. */

const int = new Intl.NumberFormat('en-US');
const compactFmt = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export const count = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : int.format(n));

/** 1234 → "1.2K"; small numbers as they are. */
export const compact = (n: number): string => (Math.abs(n) < 10_000 ? int.format(n) : compactFmt.format(n));

type Money = string | number | null | undefined;

const toNumber = (v: Money): number | undefined => {
  if (v === null || v === undefined || v === '') return undefined;
  const n = typeof v === 'string' ? Number(v) : v;
  return Number.isFinite(n) ? n : undefined;
};

/**
 * Decimals an amount needs at its scale: cents from a dollar up, four from a cent, micro-dollars
 * below, nano-dollars (the API's unit) below a micro-dollar.
 */
const scaleDigits = (n: number): number => {
  const abs = Math.abs(n);
  return abs === 0 || abs >= 1 ? 2 : abs >= 0.01 ? 4 : abs >= 0.000001 ? 6 : 9;
};

/** Decimals that show an amount exactly, from two (cents) to nine (nano-dollars, the API's unit). */
const exactDigits = (n: number): number => {
  const fraction = Math.abs(n).toFixed(9).split('.')[1] ?? '';
  return Math.max(2, fraction.replace(/0+$/, '').length);
};

/**
 * US dollars, from the API's exact decimal string or a number: the one money formatter of the UI.
 * An amount shows the precision it needs at its scale (cents from a dollar up, up to nine decimals
 * below: a request often costs a fraction of a cent, a small one a fraction of a micro-dollar), and
 * never less than:
 * - `alongside`: every decimal of an amount it was derived from, which must stay visible in it (a
 *   budget of $5.00 less a spend of $0.002001 leaves $4.997999, never "$5.00"; less $0.00012345,
 *   $4.99987655);
 * - `exact`: all of its decimals, for amounts that are set rather than measured (a price per 1M
 *   tokens, $0.40 or $1.125; a budget).
 */
export function usd(v: Money, opts: { alongside?: Money; exact?: boolean } = {}): string {
  const n = toNumber(v);
  if (n === undefined) return '–';
  if (n === 0) return '$0.00';
  const other = toNumber(opts.alongside);
  const digits = Math.max(opts.exact ? exactDigits(n) : scaleDigits(n), other ? exactDigits(other) : 0);
  const abs = Math.abs(n);
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
