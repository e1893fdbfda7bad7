import type { UsageBatch } from '../store/usage-repo.js';

/** Where the usage writer sends its batches: the store directly, or a worker thread in front of it. */
export interface UsageSink {
  writeBatch(batch: UsageBatch): Promise<void>;
  close(): Promise<void>;
}
