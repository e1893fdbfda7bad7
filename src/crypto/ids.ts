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

/**
 * UUIDv7 (RFC 9562): 48-bit millisecond timestamp then random bits, so ids sort by creation time
 * and serve as stable pagination cursors. A 12-bit counter keeps ids from one millisecond ordered.
 */
export function uuidv7(now = Date.now()): string {
  if (now <= lastMs) {
    seq = (seq + 1) & 0xfff;
    if (seq === 0) lastMs += 1; // counter wrapped: borrow the next millisecond
    now = lastMs;
  } else {
    lastMs = now;
    seq = random(2).readUInt16BE() & 0x7ff; // random start, room to count up
  }
  const b = Buffer.allocUnsafe(16);
  random(10).copy(b, 6);
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = 0x80 | ((b[8] as number) & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isUuid = (s: string): boolean => UUID_RE.test(s);
