import type { Socket } from 'node:net';
import { buildConnector, errors } from 'undici';

/** undici's connector, typed as what it is: it hands back the socket it is connecting. */
type Connect = (options: buildConnector.Options, callback: buildConnector.Callback) => Socket;

/**
 * undici's connector with UPSTREAM_CONNECT_TIMEOUT_MS on a Node timer. undici's own connect (and
 * headers, and body) timeouts run on a clock that ticks about twice a second, so a timeout fires up
 * to a second late: 500 ms after about 1,000. Node's timer fires within a millisecond or two of
 * its time, and costs one timer per new connection (none per request on a reused one). On timeout
 * the socket is destroyed with undici's own ConnectTimeoutError, as undici does.
 */
export function timedConnector(timeoutMs: number, allowH2 = false): buildConnector.connector {
  // timeout 0: undici's own timer is off; this one replaces it. The connector, not the pool, says
  // what ALPN offers: h2 first, then HTTP/1.1, for a pool that offers HTTP/2, else HTTP/1.1 alone.
  const connect = buildConnector({ timeout: 0, allowH2, preferH2: allowH2 }) as unknown as Connect;
  if (timeoutMs === 0) return connect;
  return (options, callback) => {
    let timer: NodeJS.Timeout | undefined;
    const socket = connect(options, (...args) => {
      clearTimeout(timer);
      callback(...args);
    });
    timer = setTimeout(() => {
      socket.destroy(
        new errors.ConnectTimeoutError(
          `Connect Timeout Error (attempted address: ${options.hostname}:${options.port}, timeout: ${timeoutMs}ms)`,
        ),
      );
    }, timeoutMs);
  };
}
