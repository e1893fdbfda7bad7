import type { IncomingMessage } from 'node:http';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { errors } from '../errors.js';
import type { BodyIdleWatch, BodyReceiver } from './body-idle.js';

/**
 * The client's request body on its way in: read whole before forwarding (`readWhole`), or piped
 * upstream as it arrives (`StreamedUpload`). Either way a body that stalls past the idle timeout
 * (PROXY_BODY_IDLE_TIMEOUT_MS) is cut with 408.
 */

/** Reads the whole body; fails with 408 on a stall, or with a plain error when the client leaves. */
export function readWhole(req: IncomingMessage, idle: BodyIdleWatch): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Gone while the token was looked up (a database round trip): no event would come any more.
    if (req.destroyed) {
      reject(new Error('client closed the connection'));
      return;
    }
    const chunks: Buffer[] = [];
    const receiver: BodyReceiver = {
      idleSweeps: 0,
      onBodyIdle: () => reject(errors.requestBodyTimeout(idle.timeoutMs)),
    };
    const fail = (err: Error) => {
      idle.unwatch(receiver);
      reject(err);
    };
    idle.watch(receiver);
    req.on('data', (c: Buffer) => {
      receiver.idleSweeps = 0;
      chunks.push(c);
    });
    req.once('end', () => {
      idle.unwatch(receiver);
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    req.once('error', fail);
    req.once('aborted', () => fail(new Error('client aborted the request body')));
  });
}

/**
 * A body piped to the upstream as it arrives: a declared length as is, a chunked one through a
 * byte limit. From the first byte the upstream takes to the last it is watched for stalls; a stall
 * cancels the upstream request (`abort`).
 */
export class StreamedUpload implements BodyReceiver {
  idleSweeps = 0;
  /** Bytes of the body: the declared length, or what a chunked body has sent so far. */
  bytesIn: number;
  private seen = 0;
  private controller: { abort(reason: Error): void } | undefined;
  private readonly chunked: boolean;

  constructor(
    private readonly req: IncomingMessage,
    private readonly idle: BodyIdleWatch,
    private readonly limitBytes: number,
  ) {
    this.chunked = req.headers['transfer-encoding'] !== undefined;
    this.bytesIn = this.chunked ? 0 : Number(req.headers['content-length']);
  }

  /** What undici reads the body from. */
  source(): Readable {
    if (!this.chunked) return this.req;
    return pipeline(this.req, new ByteLimit(this.limitBytes, this), () => {});
  }

  /** The upstream request has started: watch the rest of the body (a stall aborts it). */
  start(controller: { abort(reason: Error): void }): void {
    this.controller = controller;
    const { req, idle } = this;
    if (req.complete || idle.timeoutMs === 0) return;
    idle.watch(this);
    // A chunked body is counted by ByteLimit; a declared one here, next to undici's own listener.
    if (this.chunked) return;
    req.on('data', (c: Buffer) => {
      this.seen += c.length;
      if (this.seen >= this.bytesIn) idle.unwatch(this);
      else this.idleSweeps = 0;
    });
  }

  onBodyIdle(): void {
    // A declared body counts what actually arrived before it stalled.
    if (!this.chunked) this.bytesIn = this.seen;
    this.controller?.abort(errors.requestBodyTimeout(this.idle.timeoutMs));
  }

  onBodyBytes(n: number): void {
    this.bytesIn += n;
    this.idleSweeps = 0;
  }

  /** The exchange ended (or the body did): stop watching. */
  stop(): void {
    this.idle.unwatch(this);
  }
}

/** Counts a chunked request body and fails it past the limit (declared lengths are checked up front). */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly limit: number,
    private readonly meter: StreamedUpload,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    this.meter.onBodyBytes(chunk.length);
    if (this.seen > this.limit) done(errors.bodyTooLarge(this.limit));
    else done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    this.meter.stop();
    done();
  }
}
