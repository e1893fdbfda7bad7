import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { uuidv7 } from '../crypto/ids.js';
import { forward, shed } from './forward.js';
import { combineHooks, type ProxyHooks } from './hooks.js';
import { LoadShedder } from './load-shedder.js';
import type { ProxyDeps } from './proxy-deps.js';
import { createRealtimeGateway, type RealtimeGateway } from './realtime/realtime-gateway.js';

export interface ProxyHandler {
  /** True for the paths the proxy serves: everything under /v1/. */
  matches(url: string | undefined): boolean;
  /**
   * Serves one request. `expectsContinue`: it came with `Expect: 100-continue` and no `100 Continue`
   * has been sent; the proxy sends it once the request is admitted (see forward.ts `letBodyIn`).
   */
  handle(req: IncomingMessage, res: ServerResponse, expectsContinue?: boolean): void;
  /** Serves the server's `upgrade` event: the Realtime API's WebSocket at /v1/realtime, a refusal elsewhere. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** The Realtime API's open sessions (metrics, shutdown). */
  readonly realtime: RealtimeGateway;
  /**
   * Resolves when every admitted exchange (and Realtime session) has been accounted for, or
   * after `timeoutMs`.
   */
  drain(timeoutMs: number): Promise<void>;
  /** Requests being served now. */
  readonly inFlight: number;
  /** The limit on them (PROXY_MAX_IN_FLIGHT): what it has shed, and whether it is shedding (/ready). */
  readonly shedder: LoadShedder;
  /** Attaches metrics or tracing to every request from now on, beside what is attached already (hooks.ts). */
  attach(hooks: ProxyHooks): void;
}

/**
 * The proxy's entry point, called straight from the HTTP server's request event (no framework
 * routing on the hot path). Keeps count of exchanges in flight so shutdown can wait for their
 * usage records before the usage writer closes, and so a request past PROXY_MAX_IN_FLIGHT is shed
 * before anything else is done for it.
 */
export function createProxyHandler(deps: ProxyDeps): ProxyHandler {
  const inFlight = new Set<Promise<void>>();
  const shedder = new LoadShedder(deps.maxInFlight, () => inFlight.size);
  const realtime = createRealtimeGateway(deps);
  return {
    realtime,
    upgrade: (req, socket, head) => realtime.upgrade(req, socket, head),
    matches: (url) => url?.startsWith('/v1/') === true,
    handle(req, res, expectsContinue = false) {
      if (shedder.refuses(inFlight.size)) {
        shed(req, res, uuidv7(), deps, expectsContinue);
        return;
      }
      // The request id doubles as the usage record's id: time-ordered, so inserts append to the index.
      const p = forward(req, res, uuidv7(), deps, expectsContinue);
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
    },
    get inFlight() {
      return inFlight.size;
    },
    shedder,
    attach(hooks) {
      deps.hooks = combineHooks(deps.hooks, hooks);
    },
    async drain(timeoutMs) {
      await realtime.settled(timeoutMs);
      if (inFlight.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.allSettled([...inFlight]), timeout]);
      clearTimeout(timer);
    },
  };
}
