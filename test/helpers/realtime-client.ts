import { once } from 'node:events';
import WebSocket, { type ClientOptions } from 'ws';

/** A plain `ws` client of the Realtime API that keeps every frame it receives and how it closed. */
export class RealtimeClient {
  readonly events: Array<{ type: string; [k: string]: unknown }> = [];
  readonly binary: Buffer[] = [];
  /** Text frames as received (not parsed). */
  readonly texts: string[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.binary.push(Buffer.from(data));
      else {
        const text = data.toString('utf8');
        this.texts.push(text);
        this.events.push(JSON.parse(text));
      }
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => {});
  }

  /** Opens a session at `url` (ws:// or wss://). */
  static async open(url: string, protocols: string[] = [], opts: ClientOptions = {}): Promise<RealtimeClient> {
    const ws = new WebSocket(url, protocols, opts);
    const client = new RealtimeClient(ws);
    await once(ws, 'open');
    return client;
  }

  send(event: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(event));
  }

  /** Waits until `check` holds, re-checked on every frame and on close; fails if the socket closes first. */
  async until(check: () => boolean, what = 'condition'): Promise<void> {
    while (!check()) {
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) before ${what}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Waits for the `count`th event of this type. */
  async event(type: string, count = 1): Promise<{ type: string; [k: string]: unknown }> {
    await this.until(() => this.count(type) >= count, `${count} × ${type}`);
    return this.events.filter((e) => e.type === type)[count - 1] as { type: string };
  }

  count(type: string): number {
    return this.events.filter((e) => e.type === type).length;
  }

  /** Waits for the close, whoever starts it. */
  async whenClosed(): Promise<{ code: number; reason: string }> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.closed;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** The upgrade's HTTP answer when it is refused: status and body. */
export async function refusedUpgrade(
  url: string,
  headers: Record<string, string> = {},
  protocols: string[] = [],
): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(url, protocols, { headers });
  return new Promise((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('error', (err) => {
      if (!String(err.message).includes('Unexpected server response')) reject(err);
    });
  });
}
