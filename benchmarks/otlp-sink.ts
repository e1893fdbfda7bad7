import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * An OTLP/HTTP receiver that reads and discards what it is sent (a collector that keeps up), so a
 * benchmark of the proxy with tracing on measures the proxy's side of the export: spans and
 * metrics recorded, serialised to protobuf and sent. Counts the export requests it answered.
 */
export async function startOtlpSink(): Promise<{ url: string; exports: () => number; close: () => Promise<void> }> {
  let exports = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports: () => exports,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Run directly (`node dist-bench/benchmarks/otlp-sink.js`), it prints its URL and serves until killed.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  startOtlpSink().then((sink) => process.stdout.write(`listening on ${sink.url}\n`));
}
