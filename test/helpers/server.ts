import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import { type RunningServer, startServer } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import type { Clock } from '../../src/shared/clock.js';
import { keepOutput, registerExchangeSecrets, registerSecret } from './secret-watch.js';
import { currentTestFile } from './test-file.js';

export interface TestServer {
  url: string;
  dataDir: string;
  managementToken: string;
  server: RunningServer;
  /** Everything the server logged so far (JSON lines). */
  logs(): string;
  /** Calls the management API with the management token. */
  manage(method: string, route: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/** Starts a real server in this process on a random port with a fresh data directory (and the given clock). */
export async function startTestServer(env: Record<string, string> = {}, clock?: Clock): Promise<TestServer> {
  // Named after the test file, so a folder left in the temp folder says whose it is.
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(tmpdir(), `llmp-test-${path.basename(currentTestFile())}-`));
  const removeDataDir = () => {
    if (!env.DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
  };
  const captured: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => captured.push(c));
  let server: RunningServer;
  try {
    const config = loadConfig({ LISTEN_ADDR: '127.0.0.1:0', DATA_DIR: dataDir, LOG_LEVEL: 'debug', ...env }, {});
    server = await startServer(config, createLogger({ level: config.log.level, stream }), clock);
  } catch (err) {
    removeDataDir();
    throw err;
  }
  const managementToken = server.runtime.secrets.managementToken;
  registerSecret(managementToken);
  const label = `${currentTestFile()}: server at ${server.url}`;
  const manage: TestServer['manage'] = async (method, route, body) => {
    const res = await callManage(server.url, managementToken, method, route, body);
    registerExchangeSecrets(body, res.body);
    return res;
  };
  return {
    url: server.url,
    dataDir,
    managementToken,
    server,
    logs: () => Buffer.concat(captured).toString('utf8'),
    manage,
    stop: async () => {
      try {
        await server.stop();
      } finally {
        keepOutput(label, Buffer.concat(captured).toString('utf8'));
        removeDataDir();
      }
    },
  };
}

/** One call to the management API at `url` with the management token; the body parsed (null when empty). */
export async function callManage(
  url: string,
  managementToken: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${url}/manage${route}`, {
    method,
    headers: {
      authorization: `Bearer ${managementToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}
