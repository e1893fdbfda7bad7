import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { type ServeProcess, spawnServe } from './cli.js';
import { UPSTREAM_KEY } from './proxy.js';

/** Real `llm-proxy serve` processes on one SQLite data directory, for a test file. */
export interface ServeFixture {
  /** The mock upstream (from beforeAll on). */
  mock: MockUpstream;
  /** A folder of the test file's own, removed after it; the data directory is `root/data`. */
  root: string;
  dataDir: string;
  /** The settings a server of the file runs with: the data directory, the keys, the mock. */
  env(): Record<string, string>;
  /** Starts a server (killed after the file if it is still running). */
  serve(): Promise<ServeProcess>;
}

/**
 * Registers beforeAll and afterAll: a mock upstream and a fresh folder before the tests; after
 * them, every server `serve` started is killed (so a failing assertion leaves no process behind),
 * and the mock and the folder are gone. `settings` are added to env().
 */
export function serveFixture(
  prefix: string,
  managementToken: string,
  settings: Record<string, string> = {},
): ServeFixture {
  const key = randomBytes(32).toString('base64');
  const started: ServeProcess[] = [];
  const fixture: ServeFixture = {
    mock: undefined as unknown as MockUpstream,
    root: '',
    dataDir: '',
    env: () => ({
      DATA_DIR: fixture.dataDir,
      MANAGEMENT_TOKEN: managementToken,
      ENCRYPTION_KEY: key,
      OPENAI_API_URL: fixture.mock.url,
      ...settings,
    }),
    async serve() {
      const srv = await spawnServe(fixture.env());
      started.push(srv);
      return srv;
    },
  };
  beforeAll(async () => {
    fixture.mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    fixture.root = mkdtempSync(path.join(tmpdir(), prefix));
    fixture.dataDir = path.join(fixture.root, 'data');
  });
  afterAll(async () => {
    for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await fixture.mock?.close();
    if (fixture.root) rmSync(fixture.root, { recursive: true, force: true });
  });
  return fixture;
}
