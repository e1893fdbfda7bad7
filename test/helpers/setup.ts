import { setHashCostForTests } from '../../src/access/passwords.js';
import { TEST_HASH_COST } from './passwords.js';

// Runs before every test file (vitest.config.ts setupFiles).
setHashCostForTests(TEST_HASH_COST);
