import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { bill, type Ledger } from './ledger.js';
import type { ResolvedOptions } from './options.js';
import { randomId } from './text.js';

/**
 * The Realtime API's WebSocket (`GET /v1/realtime`), enough to drive a proxy: `session.created`
 * on connect; `response.create` answered with `response.created`, audio and transcript deltas
 * and `response.done` carrying usage; pings answered (by `ws`); binary frames and `mock.echo`
 * events sent back as they came; `mock.close` closes with the code and reason it names.
 * `?mock_cut_response=N` cuts the socket (no close frame) in the middle of the Nth response.
 * A `response.create` with `"mock_hold": true` stops before its `response.done` until the client
 * sends `mock.finish` (a response in progress, for as long as a test needs one), or `response.cancel`
 * (then its `response.done` says `cancelled`, with the usage of what it produced; with no response
 * in progress the answer is a `response_cancel_not_active` error). A held response whose client
 * leaves is billed all the same. `mock.flood`
 * (`count`, `size`) sends that many binary frames of random bytes at once, their SHA-256 kept, to
 * test back-pressure. The path may carry a prefix before `/v1/realtime` (a base URL's path).
 * Every session and every frame it received is recorded, with what it billed. Each response is
 * billed in the ledger under its id: at `response.done`, or, cut mid-response, for its input and
 * the output of the deltas it sent.
 */

/** Usage of one response as the Realtime API reports it in `response.done`. */
export interface RealtimeMockUsage {
  total_tokens: number;
  input_tokens: number;
  output_tokens: number;
  input_token_details: {
    text_tokens: number;
    audio_tokens: number;
    image_tokens: number;
    cached_tokens: number;
    cached_tokens_details: { text_tokens: number; audio_tokens: number; image_tokens: number };
  };
  output_token_details: { text_tokens: number; audio_tokens: number };
}

export interface RealtimeMockSession {
  /** The `x-request-id` of the handshake's answer, as OpenAI's carries one. */
  requestId: string;
  /** Path with query string. */
  path: string;
  /** Headers of the upgrade request, names lowercased. */
  headers: Record<string, string>;
  /** The subprotocol the mock chose (the first offered), or '' for none. */
  protocol: string;
  /** Every frame received, in order: text as a string, binary as a Buffer. */
  received: Array<string | Buffer>;
  /** The usage of each response that reached `response.done` (the ledger also has the ones cut mid-response). */
  billed: RealtimeMockUsage[];
  /** The close code received or sent, once closed. */
  closeCode: number | undefined;
  /** SHA-256 (hex) of every `mock.flood` frame sent, in order. */
  flooded: string[];
  /** Bytes the mock has queued on the socket that the peer has not taken yet (ws's bufferedAmount). */
  buffered(): number;
}

const REALTIME_ENDPOINT = '/v1/realtime';

/** Audio deltas per response; each carries this many bytes of "audio" (base64 in the JSON). */
const AUDIO_DELTAS = 3;
const AUDIO_BYTES = 4800;

/**
 * The usage of the `n`th response of a session (1-based): different per response, so records can
 * be told apart. `deltas`: of its AUDIO_DELTAS audio deltas, how many were sent (fewer: a response
 * cut mid-way, billed its whole input and that share of its output, rounded down).
 */
export function mockRealtimeUsage(n: number, deltas = AUDIO_DELTAS): RealtimeMockUsage {
  const text = 100 + n;
  const audio = 50;
  const cached = 64;
  const outText = Math.floor((20 * deltas) / AUDIO_DELTAS);
  const outAudio = Math.floor((80 * deltas) / AUDIO_DELTAS);
  return {
    total_tokens: text + audio + outText + outAudio,
    input_tokens: text + audio,
    output_tokens: outText + outAudio,
    input_token_details: {
      text_tokens: text,
      audio_tokens: audio,
      image_tokens: 0,
      cached_tokens: cached,
      cached_tokens_details: { text_tokens: cached, audio_tokens: 0, image_tokens: 0 },
    },
    output_token_details: { text_tokens: outText, audio_tokens: outAudio },
  };
}

export class RealtimeMock {
  readonly sessions: RealtimeMockSession[] = [];
  private readonly wss = new WebSocketServer({
    noServer: true,
    // The proxy's own bound is what is tested; the mock takes anything a test sends.
    maxPayload: 256 * 1024 * 1024,
    handleProtocols: (offered) => [...offered][0] ?? false,
  });
  /** Each handshake's request id, until its answer's headers are written. */
  private readonly requestIds = new WeakMap<IncomingMessage, string>();

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly ledger: Ledger,
  ) {
    this.wss.on('headers', (headers: string[], req: IncomingMessage) => {
      headers.push(`x-request-id: ${this.requestIds.get(req) ?? ''}`);
    });
  }

  /** The server's `upgrade` event: /v1/realtime with the right key gets a session, the rest an HTTP error. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? url;
    if (!path.endsWith('/v1/realtime')) {
      refuse(socket, 404, 'unknown_url', `Unknown WebSocket URL: ${path}`);
      return;
    }
    const { apiKey, authStyle } = this.opts;
    const auth = authStyle === 'api-key' ? req.headers['api-key'] : req.headers.authorization;
    const expected = authStyle === 'api-key' ? apiKey : `Bearer ${apiKey}`;
    if (apiKey !== undefined && auth !== expected) {
      refuse(socket, 401, 'invalid_api_key', 'Incorrect API key provided.');
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
    const cutAt = Number(query.get('mock_cut_response') ?? 0);
    const requestId = randomId('req_', 16);
    this.requestIds.set(req, requestId);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session: RealtimeMockSession = {
        requestId,
        path: url,
        headers,
        protocol: ws.protocol,
        received: [],
        billed: [],
        closeCode: undefined,
        flooded: [],
        buffered: () => ws.bufferedAmount,
      };
      this.sessions.push(session);
      this.serve(ws, session, query.get('model') ?? 'gpt-realtime', cutAt);
    });
  }

  /** Closes every open session as a server going away would. */
  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private serve(ws: WebSocket, session: RealtimeMockSession, model: string, cutAt: number): void {
    let responses = 0;
    /** Ends a held response: sends its `response.done` (or only bills it, once the client is gone). */
    let held: ((status: 'completed' | 'cancelled') => void) | undefined;
    const send = (event: Record<string, unknown>) =>
      ws.send(JSON.stringify({ event_id: randomId('event_', 16), ...event }));
    send({ type: 'session.created', session: { id: randomId('sess_', 16), object: 'realtime.session', model } });
    ws.on('close', (code) => {
      session.closeCode ??= code;
      held?.('cancelled');
      held = undefined;
    });
    ws.on('error', () => {});
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary) {
        session.received.push(buf);
        ws.send(buf, { binary: true });
        return;
      }
      const text = buf.toString('utf8');
      session.received.push(text);
      let event: { type?: string; code?: number; reason?: string; mock_hold?: boolean; count?: number; size?: number };
      try {
        event = JSON.parse(text);
      } catch {
        send({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_json', message: 'Bad JSON' } });
        return;
      }
      if (event.type === 'mock.echo') ws.send(text);
      else if (event.type === 'mock.close') {
        session.closeCode = event.code ?? 1000;
        ws.close(event.code ?? 1000, event.reason ?? '');
      } else if (event.type === 'mock.finish') {
        const finish = held;
        held = undefined;
        finish?.('completed');
      } else if (event.type === 'response.cancel') {
        const cancel = held;
        held = undefined;
        if (cancel) cancel('cancelled');
        else {
          const message = 'Cancellation failed: no active response found.';
          send({
            type: 'error',
            error: { type: 'invalid_request_error', code: 'response_cancel_not_active', message },
          });
        }
      } else if (event.type === 'mock.flood') {
        for (let i = 0; i < (event.count ?? 1); i++) {
          const frame = randomBytes(event.size ?? 1024);
          session.flooded.push(createHash('sha256').update(frame).digest('hex'));
          ws.send(frame, { binary: true });
        }
      } else if (event.type === 'response.create') {
        responses++;
        const done = this.respond(ws, session, model, responses, responses === cutAt, send);
        if (done && event.mock_hold === true) held = done;
        else done?.('completed');
      }
    });
  }

  /** Sends a response up to its `response.done`; returns what bills and sends that (undefined once cut). */
  private respond(
    ws: WebSocket,
    session: RealtimeMockSession,
    model: string,
    n: number,
    cut: boolean,
    send: (event: Record<string, unknown>) => void,
  ): ((status: 'completed' | 'cancelled') => void) | undefined {
    const id = randomId('resp_', 16);
    const itemId = randomId('item_', 16);
    send({ type: 'response.created', response: { id, object: 'realtime.response', status: 'in_progress' } });
    for (let i = 0; i < AUDIO_DELTAS; i++) {
      send({
        type: 'response.output_audio.delta',
        response_id: id,
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        delta: randomBytes(AUDIO_BYTES).toString('base64'),
      });
      send({ type: 'response.output_audio_transcript.delta', response_id: id, item_id: itemId, delta: `word${i} ` });
      if (cut && i === 1) {
        // Billed for what it produced before the drop, as a response cut short is.
        bill(this.ledger, id, REALTIME_ENDPOINT, { model, usage: { ...mockRealtimeUsage(n, i + 1) } });
        // No close frame: the connection drops as a failing upstream's would.
        session.closeCode = 1006;
        ws.terminate();
        return undefined;
      }
    }
    // Every delta went out before the hold: a cancelled response bills as much as a completed one.
    return (status) => {
      const usage = mockRealtimeUsage(n);
      session.billed.push(usage);
      bill(this.ledger, id, REALTIME_ENDPOINT, { model, usage: { ...usage } });
      if (ws.readyState !== ws.OPEN) return;
      send({ type: 'response.done', response: { id, object: 'realtime.response', status, output: [], usage, model } });
    };
  }
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code } });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Not Found'}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
