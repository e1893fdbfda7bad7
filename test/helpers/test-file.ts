import path from 'node:path';
import { expect } from 'vitest';

/** The test file running in this worker (relative to the repository), for labels in kept output. */
export function currentTestFile(): string {
  const file = expect.getState().testPath;
  return file ? path.relative(process.cwd(), file) : 'unknown test';
}
