import { randomBytes } from 'node:crypto';

/** Random bytes drawn from a pool refilled 4 KiB at a time: one syscall per ~400 ids, not one each. */
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

function random(n: number): Buffer {
  if (offset + n > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + n);
  offset += n;
  return out;
}

let lastMs = 0;
let seq = 0;
const tsGroups = (ms: number) => {
  const ts = ms.toString(16).padStart(12, '0');
  return `${ts.slice(0, 8)}-${ts.slice(8)}`;
};
/** `lastMs` as the id's first two groups: a double's hex costs more than the rest of the id. */
let lastTs = tsGroups(lastMs);

/**
 * UUIDv7 (RFC 9562): 48-bit millisecond timestamp then random bits, so ids sort by creation time
 * and serve as stable pagination cursors. A 12-bit counter keeps ids from one millisecond ordered.
 */
export function uuidv7(now = Date.now()): string {
  if (now <= lastMs) {
    seq = (seq + 1) & 0xfff;
    if (seq === 0) {
      lastMs += 1; // counter wrapped: borrow the next millisecond
      lastTs = tsGroups(lastMs);
    }
  } else {
    lastMs = now;
    lastTs = tsGroups(now);
    seq = random(2).readUInt16BE() & 0x7ff; // random start, room to count up
  }
  // Written straight as hex (no Buffer per id): one is made for every proxied request.
  const r = random(8);
  return (
    `${lastTs}-7${(0x1000 | seq).toString(16).slice(1)}-` +
    `${HEX[0x80 | ((r[0] as number) & 0x3f)]}${HEX[r[1] as number]}-` +
    `${HEX[r[2] as number]}${HEX[r[3] as number]}${HEX[r[4] as number]}${HEX[r[5] as number]}${HEX[r[6] as number]}${HEX[r[7] as number]}`
  );
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isUuid = (s: string): boolean => UUID_RE.test(s);
