import { onTestFinished } from 'vitest';
import { type HashCost, SCRYPT, setHashCostForTests } from '../../src/access/passwords.js';

/**
 * The cost of the password hashes the tests make (setup.ts sets it for every test file): scrypt with
 * N = 2^10, r = 8, p = 1, about a millisecond, where the production cost (SCRYPT) takes about 200 ms
 * of a core. Hundreds of sign-ins in the suite would otherwise spend minutes hashing, and nothing
 * they test depends on the cost: every hash carries its own parameters, and verifying reads them.
 */
export const TEST_HASH_COST: HashCost = { N: 2 ** 10, r: 8, p: 1 };

/** The current test makes its hashes at the production cost (for a test that checks that cost). */
export function productionHashCost(): void {
  setHashCostForTests(SCRYPT);
  onTestFinished(() => setHashCostForTests(TEST_HASH_COST));
}
