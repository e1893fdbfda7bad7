import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { loadConfig } from './load.js';
import { configSchema } from './schema.js';

/** Node turns a timer delay above this into 1 ms, so no setting in milliseconds may exceed it. */
const TIMER_MAX = 2_147_483_647;

function unwrapped(s: z.ZodType): z.ZodType {
  let t = s;
  while (t instanceof z.ZodDefault || t instanceof z.ZodOptional) t = t.unwrap() as z.ZodType;
  return t;
}

/** Every numeric setting with the bounds its schema enforces. */
const numeric = Object.entries(configSchema.shape as Record<string, z.ZodType>).flatMap(([name, schema]) => {
  const t = unwrapped(schema);
  if (!(t instanceof z.ZodNumber)) return [];
  return [{ name, int: Boolean(t.isInt), min: t.minValue as number, max: t.maxValue as number }];
});

/** The line loadConfig's refusal has for `name`. */
function refusal(name: string, value: string): string {
  try {
    loadConfig({}, { [name]: value });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const line = (err as Error).message.split('\n').find((l) => l.startsWith(`  ${name}: `));
    if (line) return line.slice(name.length + 4);
  }
  throw new Error(`${name}=${value} was accepted`);
}

describe('numeric settings: every refusal states the whole accepted range', () => {
  it('finds the numeric settings', () => {
    expect(numeric.length).toBeGreaterThan(30);
    expect(numeric.find((s) => s.name === 'UPSTREAM_SHARE_PERCENT')).toMatchObject({ min: 1, max: 100 });
  });

  it('UPSTREAM_SHARE_PERCENT=101 is refused with its range, 1 to 100', () => {
    expect(refusal('UPSTREAM_SHARE_PERCENT', '101')).toBe('expected a whole number from 1 to 100');
    expect(refusal('UPSTREAM_SHARE_PERCENT', '0')).toBe('expected a whole number from 1 to 100');
  });

  it.each(numeric)('$name: below, above and not a number all name both bounds', ({ name, int, min, max }) => {
    const bounded = max < Number.MAX_SAFE_INTEGER;
    const range = (message: string) => {
      expect(message, name).toContain(String(min));
      if (bounded) expect(message, name).toContain(String(max));
      else expect(message, name).toContain(`>= ${min}`);
    };
    const step = int ? 1 : 0.5;
    range(refusal(name, String(min - step)));
    if (bounded) range(refusal(name, String(max + step)));
    range(refusal(name, 'lots'));
    if (int) range(refusal(name, String(min + 0.5)));
  });

  it('settings whose use has a ceiling refuse past it, instead of failing at start or hanging later', () => {
    // lru-cache allocates its index at start: 5e9 entries failed with "Invalid array length".
    expect(refusal('TOKEN_CACHE_SIZE', '5000000000')).toBe('expected a whole number from 1 to 10000000');
    // Each rotation renames every kept file, one by one.
    expect(refusal('LOG_ROTATE_KEEP', '1000000000')).toBe('expected a whole number from 1 to 1000');
  });

  it('settings in milliseconds end at the timer ceiling, so none turns into 1 ms', () => {
    // OpenTelemetry's standard names for its two intervals say no unit; they are milliseconds too.
    const otel = ['OTEL_BSP_SCHEDULE_DELAY', 'OTEL_METRIC_EXPORT_INTERVAL'];
    const timers = numeric.filter(
      (s) => s.name.endsWith('_MS') || s.name.endsWith('_TIMEOUT') || otel.includes(s.name),
    );
    expect(timers.length).toBeGreaterThan(15);
    for (const t of timers) expect(t.max, t.name).toBe(TIMER_MAX);
  });
});
