/** `250ms`, `10s`, `1.5m`, `1h`, or a bare number of seconds → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new RangeError(`not a duration: ${JSON.stringify(text)} (try 500ms, 10s, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const scale = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return n * scale;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${trim(ms / 1000)}s`;
  return `${trim(ms / 60_000)}m`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** Milliseconds with a precision that suits the size: 0.043, 1.25, 23.4, 1203. */
export function formatMs(ms: number): string {
  if (ms < 10) return ms.toFixed(3);
  if (ms < 100) return ms.toFixed(2);
  if (ms < 1000) return ms.toFixed(1);
  return ms.toFixed(0);
}

export function formatSignedMs(ms: number): string {
  return `${ms >= 0 ? '+' : '-'}${formatMs(Math.abs(ms))} ms`;
}

const trim = (n: number) => String(Number(n.toFixed(2)));

/** Rounds to microseconds (values in ms) or to a sensible number of digits. */
export const round3 = (n: number) => Math.round(n * 1000) / 1000;
export const round4 = (n: number) => Math.round(n * 10_000) / 10_000;
