import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { Spill } from './spill.js';
import { USAGE_EVENT_SCHEMA, type UsageEventV1 } from './usage-event.js';

const logger = createLogger({ level: 'silent' });
const event = (i: number): UsageEventV1 =>
  ({ schema: USAGE_EVENT_SCHEMA, id: `e${String(i).padStart(4, '0')}`, status: 200 }) as unknown as UsageEventV1;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => event(from + i));
const idsOf = (events: UsageEventV1[]) => events.map((e) => e.id);
/** Bytes one spilled line of `event(i)` takes. */
const LINE = Buffer.byteLength(`${JSON.stringify(event(0))}\n`);

describe('Spill', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(mkdtempSync(path.join(tmpdir(), 'llmp-spill-')), 'webhook');
  });
  afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));
  const open = (maxBytes = 1_000_000, segmentBytes?: number) =>
    new Spill({ dir, maxBytes, logger, ...(segmentBytes ? { segmentBytes } : {}) });
  const files = () => readdirSync(dir).filter((f) => f.startsWith('spill-'));

  it('gives events back oldest first, the same ones until acknowledged, and deletes what is acknowledged', async () => {
    const spill = open(1_000_000, 3 * LINE);
    expect(await spill.append(range(0, 4))).toBe(0);
    expect(await spill.append(range(4, 6))).toBe(0);
    expect(spill.pending).toBe(6);
    expect(files()).toHaveLength(2);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of files()) expect(statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);

    expect(idsOf(await spill.peek(3))).toEqual(['e0000', 'e0001', 'e0002']);
    expect(idsOf(await spill.peek(3))).toEqual(['e0000', 'e0001', 'e0002']);
    await spill.ack(3);
    expect(spill.pending).toBe(3);
    expect(idsOf(await spill.peek(3))).toEqual(['e0003']);
    await spill.ack(1);
    expect(files()).toHaveLength(1);
    // Appends after a read go to a new segment, never to the one being read.
    expect(idsOf(await spill.peek(10))).toEqual(['e0004', 'e0005']);
    await spill.append(range(6, 7));
    expect(files()).toHaveLength(2);
    expect(idsOf(await spill.peek(10))).toEqual(['e0004', 'e0005']);
    await spill.ack(2);
    expect(idsOf(await spill.peek(10))).toEqual(['e0006']);
    await spill.ack(1);
    expect(spill.pending).toBe(0);
    expect(spill.bytes).toBe(0);
    expect(files()).toEqual([]);
    expect(await spill.peek(10)).toEqual([]);
  });

  it('keeps at most maxBytes: the newest are dropped until the sink takes a segment off the disk', async () => {
    const spill = open(5 * LINE, 2 * LINE);
    expect(await spill.append(range(0, 4))).toBe(0);
    expect(await spill.append(range(4, 7))).toBe(2);
    expect(spill.bytes).toBe(5 * LINE);
    // Full: nothing more goes in, even what would fit after a partial acknowledgement.
    await spill.peek(2);
    await spill.ack(2);
    expect(await spill.append(range(7, 8))).toBe(1);
    expect(spill.pending).toBe(3);
    // Once a whole segment is gone there is room again.
    await spill.peek(10);
    await spill.ack(2);
    expect(await spill.append(range(8, 9))).toBe(0);
    expect(idsOf(await spill.peek(10))).toEqual(['e0004', 'e0008']);
  });

  it('is read again by the next process: from the start after a crash, from the cursor after a clean close', async () => {
    const first = open(1_000_000, 2 * LINE);
    for (const [from, to] of [
      [0, 2],
      [2, 4],
      [4, 5],
    ] as const)
      await first.append(range(from, to));
    await first.peek(1);
    await first.ack(1);
    // A crash: no close, so the acknowledged event is sent again (at least once).
    const crashed = open();
    expect(crashed.pending).toBe(5);
    expect(idsOf(await crashed.peek(10))).toEqual(['e0000', 'e0001']);
    await crashed.ack(1);
    await crashed.close();

    const next = open();
    expect(next.pending).toBe(4);
    expect(idsOf(await next.peek(10))).toEqual(['e0001']);
    await next.ack(1);
    expect(idsOf(await next.peek(10))).toEqual(['e0002', 'e0003']);
  });

  it('skips a torn or foreign line and counts what is readable', async () => {
    const spill = open();
    await spill.append(range(0, 2));
    const [f] = files();
    appendFileSync(path.join(dir, f as string), '{"schema":"llm-proxy.usage/v1","id":"e00');
    writeFileSync(path.join(dir, 'spill-0000000000000-1-000000.jsonl'), '{"not":"an event"}\n', { mode: 0o600 });
    const next = open();
    expect(next.pending).toBe(3);
    expect(idsOf(await next.peek(10))).toEqual(['e0000', 'e0001']);
    expect(next.pending).toBe(2);
    await next.ack(2);
    expect(next.pending).toBe(0);
    expect(files()).toEqual([]);
  });
});
