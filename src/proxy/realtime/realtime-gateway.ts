import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { uuidv7 } from '../../crypto/ids.js';
import { AppError, errors, fromUnexpected } from '../../errors.js';
import type { UpstreamKey } from '../../projects/upstream-key.js';
import type { Invalidation, TokenIdentity } from '../../tokens/authenticator.js';
import type { UsageRecord } from '../../usage/usage-writer.js';
import { chargeLimits, checkEndpoint, checkModel } from '../admission.js';
import { offeredSubprotocols, presentedToken, upstreamUpgradeHeaders } from '../headers.js';
import { chooseKey } from '../key-choice.js';
import type { ProxyDeps } from '../proxy-deps.js';
import { REQUEST_ID_HEADER, rawErrorResponse } from '../reply.js';
import {
  CLOSE_CODES,
  newRealtimeStats,
  REALTIME_PATH,
  RealtimeSession,
  type RealtimeStats,
  type SessionContext,
} from './realtime-session.js';

/**
 * The largest WebSocket message taken either way (16 MiB): above the Realtime API's own limit on
 * an `input_audio_buffer.append` event (15 MiB), far below `ws`'s default of 100 MiB.
 */
export const REALTIME_MAX_PAYLOAD = 16 * 1024 * 1024;

/** How long a session closed at the shutdown deadline has to answer its close frame (a round trip). */
const CLOSE_GRACE_MS = 1_000;

/** The Realtime API's WebSocket sessions: upgrades, the sessions open, shutdown. */
export interface RealtimeGateway {
  /** Serves the server's `upgrade` event: /v1/realtime is proxied, anything else refused. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Counters for the metrics (read at scrape time). */
  readonly stats: RealtimeStats;
  /** Bytes the open sessions hold queued for a peer (metrics, read at scrape time). */
  buffered(): number;
  /** Closes sessions with 1001 as their responses in progress end. */
  drain(): void;
  /** Closes every session with 1001 now (the shutdown deadline), cutting those that do not answer. */
  closeAll(): void;
  /** Resolves once every session has ended and been accounted, or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void>;
  /** Called with each session's record and duration when it ends (metrics). */
  onSessionEnd?: (rec: UsageRecord, durationSeconds: number) => void;
}

export function createRealtimeGateway(deps: ProxyDeps): RealtimeGateway {
  const sessions = new Set<RealtimeSession>();
  const stats = newRealtimeStats();
  /** The subprotocol the upstream chose, for the client's handshake. */
  const chosen = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: REALTIME_MAX_PAYLOAD,
    perMessageDeflate: false,
    // Pings pass through to the upstream, which answers them: liveness end to end.
    autoPong: false,
    handleProtocols: (_offered, req) => chosen.get(req) || false,
  });
  let draining = false;

  // A revoked or expired token, or a deactivated project, closes its sessions: the authenticator
  // tells of every change this process makes and of every change the change feed brings.
  deps.authenticator.onInvalidate((scope: Invalidation) => {
    for (const s of sessions) {
      if ('all' in scope || ('projectId' in scope && scope.projectId === s.projectId)) s.recheck();
      else if ('tokenIds' in scope && scope.tokenIds.includes(s.tokenId)) s.recheck();
    }
  });

  const gateway: RealtimeGateway = {
    stats,
    buffered() {
      let n = 0;
      for (const s of sessions) n += s.buffered;
      return n;
    },
    upgrade(req, socket, head) {
      socket.on('error', () => {});
      const id = uuidv7();
      const refuse = (err: AppError) => {
        deps.logger.info(
          { request_id: id, method: req.method, path: pathOf(req), status: err.status, code: err.code },
          'proxy refused',
        );
        socket.end(rawErrorResponse(err, id));
      };
      const path = pathOf(req);
      if (path !== REALTIME_PATH || req.method !== 'GET') return refuse(errors.upgradeNotServed(path));
      if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
        return refuse(errors.validation('Only WebSocket upgrades are served at /v1/realtime.'));
      }
      if (draining) return refuse(errors.shuttingDown());
      open(req, socket, head, id).catch((err: unknown) => refuse(fromUnexpected(err)));
    },
    drain() {
      draining = true;
      for (const s of sessions) s.drain();
    },
    closeAll() {
      if (sessions.size === 0) return;
      for (const s of sessions) s.close(CLOSE_CODES.goingAway, 'the proxy is shutting down');
      // The shutdown waits for every socket, and `ws` waits 30 s for a close frame's answer: a
      // peer that does not read gets a second to answer, then its connection is cut.
      const cut = setTimeout(() => {
        if (sessions.size === 0) return;
        deps.logger.warn({ sessions: sessions.size }, 'realtime sessions cut: no answer to their close frame');
        for (const s of sessions) s.terminate();
      }, CLOSE_GRACE_MS);
      cut.unref();
    },
    async settled(timeoutMs) {
      if (sessions.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.allSettled([...sessions].map((s) => s.done)), timeout]);
      clearTimeout(timer);
    },
  };

  /** Token → allowlists → key → limits → journal → the upstream's handshake → the client's. */
  async function open(req: IncomingMessage, socket: Duplex, head: Buffer, id: string): Promise<void> {
    const t0 = performance.now();
    const offered = offeredSubprotocols(headerValue(req.headers['sec-websocket-protocol']));
    const presented = presentedToken(req.headers) ?? offered.token;
    if (!presented) throw errors.missingApiKey();
    const identity = deps.authenticator.cached(presented) ?? (await deps.authenticator.authenticate(presented));
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const model = query.get('model');
    const denied =
      checkEndpoint(identity, 'GET', REALTIME_PATH) ?? checkModel(identity, model ?? undefined, deps.pricing);
    if (denied) throw denied;
    const key = pickKey(identity, model ?? '', deps);
    if (!key) throw errors.upstreamUnavailable('the project has no enabled upstream key');
    // The connection counts as a request (caps, requests per minute) and holds a concurrency slot
    // until it closes; its responses are charged as they complete (realtime-session.ts).
    const ticket = await chargeLimits(id, identity.limits, 0, 0, deps);
    if (ticket instanceof AppError) throw ticket;
    let ctx: SessionContext | undefined;
    const journaled = deps.admitUsage(
      {
        id,
        tokenId: identity.tokenId,
        projectId: identity.projectId,
        method: 'GET',
        path: REALTIME_PATH,
        model,
        estimatedTokens: 0,
        estimatedCostMicroUsd: 0,
        at: ticket.admittedAt,
      },
      () => {},
    );
    let failed = false;
    const fail = (status: number, error: string | null, upstreamMs: number | null) => {
      if (failed) return;
      failed = true;
      deps.limiter.settle(ticket, 0, 0);
      const rec = refusedRecord(id, identity, key, model, status, error, t0, upstreamMs, deps);
      deps.recordUsage(rec, journaled);
      const clientIp = req.socket.remoteAddress;
      deps.hooks?.realtime?.({ id, t0, headers: req.headers, clientIp, kind: 'session' }, rec);
      deps.accessLog(rec, { ip: clientIp, userAgent: headerValue(req.headers['user-agent']) });
    };
    const upstream = new WebSocket(upstreamUrl(key, req.url ?? REALTIME_PATH), offered.others, {
      headers: upstreamUpgradeHeaders(req.headers, key),
      maxPayload: REALTIME_MAX_PAYLOAD,
      perMessageDeflate: false,
      autoPong: false,
      handshakeTimeout: 30_000,
    });
    upstream.on('error', (err) => {
      if (ctx || failed) return;
      deps.logger.warn({ request_id: id, err: err.message }, 'realtime upstream connection failed');
      fail(502, 'upstream_unavailable', null);
      socket.end(rawErrorResponse(errors.upstreamUnavailable('the upstream could not be reached'), id));
    });
    // The upstream's refusal (401, 404, 429…) goes to the client as it came.
    upstream.on('unexpected-response', (upReq, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const status = res.statusCode ?? 502;
        fail(status, null, round(performance.now() - t0));
        const type = headerValue(res.headers['content-type']) ?? 'application/json';
        socket.write(
          `HTTP/1.1 ${status} ${res.statusMessage ?? ''}\r\ncontent-type: ${type}\r\n` +
            `content-length: ${body.length}\r\n${REQUEST_ID_HEADER}: ${id}\r\nconnection: close\r\n\r\n`,
        );
        socket.end(body);
        upReq.destroy();
      });
      res.on('error', () => {});
    });
    // The client left while the upstream was being dialled.
    const onGone = () => upstream.terminate();
    socket.once('close', onGone);
    upstream.on('open', () => {
      socket.off('close', onGone);
      ctx = {
        id,
        t0,
        presented,
        identity,
        key,
        model,
        ticket,
        journaled,
        clientIp: req.socket.remoteAddress,
        userAgent: headerValue(req.headers['user-agent']),
        headers: req.headers,
        tUpstreamOpen: performance.now(),
      };
      const c = ctx;
      chosen.set(req, upstream.protocol);
      wss.handleUpgrade(req, socket, head, (client) => {
        const session = new RealtimeSession(c, client, upstream, deps, stats, (s, rec, seconds) => {
          sessions.delete(s);
          gateway.onSessionEnd?.(rec, seconds);
        });
        sessions.add(session);
        if (draining) session.drain();
      });
    });
  }

  return gateway;
}

/** A key not cooling down for the model, balanced like the HTTP path's; any key when every one cools. */
function pickKey(identity: TokenIdentity, model: string, deps: ProxyDeps): UpstreamKey | undefined {
  const keys = identity.upstreamKeys;
  if (keys.length <= 1) return keys[0];
  return chooseKey(keys, Math.random, (k) => deps.keyHealth.usable(k.id, model), deps.keyLoad) ?? chooseKey(keys);
}

/** The upstream's WebSocket URL: its origin as ws(s), its path prefix, the client's path and query. */
export function upstreamUrl(key: Pick<UpstreamKey, 'origin' | 'prefix'>, url: string): string {
  const origin = key.origin.replace(/^http/, 'ws');
  return `${origin}${key.prefix}${url}`;
}

/** A session that never opened (the upstream refused or could not be reached): its one record. */
function refusedRecord(
  id: string,
  identity: TokenIdentity,
  key: UpstreamKey,
  model: string | null,
  status: number,
  error: string | null,
  t0: number,
  upstreamMs: number | null,
  deps: ProxyDeps,
): UsageRecord {
  return {
    id,
    tokenId: identity.tokenId,
    projectId: identity.projectId,
    method: 'GET',
    path: REALTIME_PATH,
    model,
    status,
    stream: false,
    promptTokens: 0,
    completionTokens: 0,
    totalTokens: 0,
    cachedTokens: 0,
    reasoningTokens: 0,
    finishReason: null,
    upstreamMs,
    ttfbMs: null,
    durationMs: round(performance.now() - t0),
    bytesIn: 0,
    bytesOut: 0,
    error,
    costMicroUsd: 0,
    usageStatus: 'reported',
    createdAt: deps.now(),
    upstreamKeyId: key.id,
    retries: 0,
    servedFrom: null,
    serviceTier: null,
    billedUnits: null,
  };
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

const round = (n: number) => Math.round(n * 1000) / 1000;
