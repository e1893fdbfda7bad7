import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashing with scrypt (node:crypto) and a random 16-byte salt per password. Parameters:
 * N = 2^15, r = 8, p = 3, a 32-byte key — one of OWASP's recommended scrypt settings (equivalent to
 * N = 2^17, p = 1 at a quarter of the memory: 32 MiB per hash); about 200 ms of one core here. The
 * parameters are stored with each hash, so raising them later keeps old hashes verifiable. Stored
 * form: `scrypt$<N>$<r>$<p>$<salt base64url>$<hash base64url>`. The work runs on libuv's thread
 * pool, never on the event loop.
 */
export const SCRYPT = { N: 2 ** 15, r: 8, p: 3, keyLength: 32, saltLength: 16 } as const;

export interface HashCost {
  N: number;
  r: number;
  p: number;
}

/** The cost new hashes get: SCRYPT's. */
let cost: HashCost = SCRYPT;

/**
 * Sets the cost of the hashes made from now on in this process; verifying always uses the cost
 * stored with the hash. For test suites only (as Rails' `SecurePassword.min_cost`): they hash and
 * verify hundreds of passwords, and what they test (salts, encoding, verification, refusals) does
 * not depend on the cost. There is no setting for it: a server always hashes at SCRYPT's cost.
 */
export function setHashCostForTests(next: HashCost): void {
  cost = next;
  decoy = undefined; // the decoy costs what a real hash costs
}

/** scrypt needs 128 * N * r bytes; Node's default ceiling (32 MiB) is exactly that, so leave room. */
const maxmem = (N: number, r: number) => 256 * N * r;

function derive(password: string, salt: Buffer, N: number, r: number, p: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, length, { N, r, p, maxmem: maxmem(N, r) }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const { keyLength, saltLength } = SCRYPT;
  const { N, r, p } = cost;
  const salt = randomBytes(saltLength);
  const key = await derive(password, salt, N, r, p, keyLength);
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Compares in constant time; false for a malformed stored hash (never throws on one). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const [N, R, P] = [Number(n), Number(r), Number(p)];
  if (![N, R, P].every(Number.isSafeInteger) || expected.length < 16 || N > 2 ** 20 || R > 32 || P > 16) return false;
  const key = await derive(password, Buffer.from(salt, 'base64url'), N, R, P, expected.length);
  return timingSafeEqual(key, expected);
}

/** A hash of a random password: verified against when the username is unknown, so timing does not tell. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('base64url'));
  return decoy;
}
