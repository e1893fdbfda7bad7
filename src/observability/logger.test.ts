import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, flushLogger } from './logger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function logFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'llmp-log-'));
  dirs.push(dir);
  return path.join(dir, 'proxy.log');
}
const lineNumbers = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { n: number }).n);

describe('LOG_FILE rotation', () => {
  it('rotates at the size limit, keeps the newest files (0600) and loses no line in between', async () => {
    const file = logFile();
    const logger = createLogger({ level: 'info', file, rotation: { maxBytes: 8_000, intervalMs: 0, keep: 3 } });
    for (let n = 0; n < 2_000; n++) logger.info({ n, pad: 'x'.repeat(60) }, 'line');
    await flushLogger(logger);
    const files = readdirSync(path.dirname(file)).sort();
    expect(files).toEqual(['proxy.log', 'proxy.log.1', 'proxy.log.2', 'proxy.log.3']);
    for (const f of files) expect(statSync(path.join(path.dirname(file), f)).mode & 0o777).toBe(0o600);
    // Oldest kept file first: the kept lines run without a gap up to the last one logged.
    const kept = [3, 2, 1].flatMap((i) => lineNumbers(`${file}.${i}`)).concat(lineNumbers(file));
    expect(kept.at(-1)).toBe(1_999);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => (kept[0] as number) + i));
    for (const i of [1, 2, 3]) expect(statSync(`${file}.${i}`).size).toBeGreaterThanOrEqual(8_000);
  });

  it('rotates by age too', async () => {
    const file = logFile();
    const logger = createLogger({ level: 'info', file, rotation: { maxBytes: 0, intervalMs: 100, keep: 5 } });
    logger.info({ n: 0 }, 'first');
    await sleep(150);
    // Past the age: the next block handed to the file (at 4 KiB, or the 250 ms tick) starts a new one.
    for (let n = 1; n <= 200; n++) logger.info({ n, pad: 'x'.repeat(40) }, 'line');
    await flushLogger(logger);
    // At least one rotation; however many a slow machine made, the files hold every line in order.
    const rotated = readdirSync(path.dirname(file))
      .filter((f) => f !== 'proxy.log')
      .sort()
      .reverse();
    expect(rotated.length).toBeGreaterThanOrEqual(1);
    const all = rotated.flatMap((f) => lineNumbers(path.join(path.dirname(file), f))).concat(lineNumbers(file));
    expect(all).toEqual(Array.from({ length: 201 }, (_, i) => i));
  });
});

describe('a fatal line', () => {
  it('lands after the lines before it, even while they are still being written', async () => {
    for (let round = 0; round < 20; round++) {
      const file = logFile();
      const logger = createLogger({ level: 'info', file });
      // Over 4 KiB: the batcher hands this block to the asynchronous writer at once, and pino's
      // fatal() then asks for a synchronous flush while that write is still in flight.
      for (let n = 0; n < 60; n++) logger.info({ n, pad: 'x'.repeat(80) }, 'line');
      logger.fatal({ n: 60 }, 'uncaught error: exiting');
      await flushLogger(logger);
      expect(lineNumbers(file), `round ${round}`).toEqual(Array.from({ length: 61 }, (_, i) => i));
    }
  });
});

describe('LOG_FILE shared by several processes (WORKERS)', () => {
  it('the one that does not rotate follows the file when the other renames it, losing no line', async () => {
    const file = logFile();
    const dir = path.dirname(file);
    const rotation = { maxBytes: 4_000, intervalMs: 0, keep: 5 };
    const rotating = createLogger({ level: 'info', file, shared: true, rotation });
    const following = createLogger({ level: 'info', file, shared: true });
    const lines = (f: string, who: string) =>
      readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l.includes(`"${who}"`));
    const deadline = Date.now() + 30_000;
    const until = async (what: string, check: () => boolean) => {
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`never: ${what}`);
        await sleep(20);
      }
    };
    let n = 0;
    following.info({ n: n++ }, 'follower');
    await until('the follower writes', () => lines('proxy.log', 'follower').length === 1);
    for (let i = 0; i < 60; i++) rotating.info({ n: i, pad: 'x'.repeat(80) }, 'rotator');
    await flushLogger(rotating);
    expect(readdirSync(dir)).toContain('proxy.log.1');
    // The follower's next blocks (each 250 ms tick) land in the new file at the path within FOLLOW_MS.
    await until('the follower writes to the new file', () => {
      following.info({ n: n++ }, 'follower');
      return lines('proxy.log', 'follower').length > 0;
    });
    await flushLogger(following);
    const all = readdirSync(dir)
      .sort()
      .reverse()
      .flatMap((f) => lines(f, 'follower'))
      .map((l) => (JSON.parse(l) as { n: number }).n);
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(readdirSync(dir).flatMap((f) => lines(f, 'rotator'))).toHaveLength(60);
  });
});
