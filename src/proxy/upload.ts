import type { IncomingMessage } from 'node:http';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import type { AppError } from '../errors.js';
import { errors } from '../errors.js';
import type { BodyReceiver, BodyWatch } from './body-watch.js';

/**
 * The client's request body on its way in: read whole before forwarding (`readWhole`), or piped
 * upstream as it arrives (`StreamedUpload`). Either way a body that stalls past the idle timeout
 * (PROXY_BODY_IDLE_TIMEOUT_MS), or is not complete within PROXY_BODY_TIMEOUT_MS of the request's
 * arrival, is cut with 408 (body-watch.ts).
 */

/**
 * Reads a body of `declared` bytes into one buffer of that size (the body if it comes in one
 * chunk): never a list of chunks joined at the end, which would hold the body twice. Fails with
 * 408 on a timeout, or with a plain error when the client leaves; either way the buffer is let go
 * at once and nothing more is read into it.
 */
export function readWhole(req: IncomingMessage, watch: BodyWatch, declared: number, deadline: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Gone while the token was looked up (a database round trip): no event would come any more.
    if (req.destroyed) {
      reject(new Error('client closed the connection'));
      return;
    }
    let body: Buffer | undefined;
    let filled = 0;
    const onData = (c: Buffer) => {
      receiver.idleSweeps = 0;
      if (filled === 0 && c.length === declared) body = c;
      else {
        body ??= Buffer.allocUnsafe(declared);
        c.copy(body, filled);
      }
      filled += c.length;
    };
    const fail = (err: Error) => {
      watch.unwatch(receiver);
      req.off('data', onData);
      body = undefined;
      reject(err);
    };
    const receiver: BodyReceiver = { idleSweeps: 0, deadline, onBodyTimeout: (err: AppError) => fail(err) };
    watch.watch(receiver);
    req.on('data', onData);
    req.once('end', () => {
      watch.unwatch(receiver);
      // Node holds a body to its content-length, so `filled` is `declared` here.
      resolve(body === undefined ? Buffer.alloc(0) : filled === body.length ? body : body.subarray(0, filled));
    });
    req.once('error', fail);
    req.once('aborted', () => fail(new Error('client aborted the request body')));
  });
}

/**
 * A body piped to the upstream as it arrives: a declared length as is, a chunked one through a
 * byte limit. From the first byte the upstream takes to the last it is watched for stalls and for
 * its deadline; either cancels the upstream request (`abort`).
 */
export class StreamedUpload implements BodyReceiver {
  idleSweeps = 0;
  readonly deadline: number;
  /** Bytes that arrived: a declared body's counted beside undici's reader, a chunked one's by ByteLimit. */
  private received = 0;
  private controller: { abort(reason: Error): void } | undefined;
  private readonly chunked: boolean;
  private readonly declared: number;

  constructor(
    private readonly req: IncomingMessage,
    /** Its length is not declared (ProxyRequest.chunked). */
    chunked: boolean,
    private readonly watch: BodyWatch,
    private readonly limitBytes: number,
    /** When the request arrived (performance.now()): PROXY_BODY_TIMEOUT_MS counts from here. */
    t0: number,
  ) {
    this.chunked = chunked;
    this.declared = this.chunked ? 0 : Number(req.headers['content-length']);
    this.deadline = watch.deadline(t0);
  }

  /** Bytes of the body that reached the proxy: all of a complete one, what came of one cut short. */
  get bytesIn(): number {
    return this.chunked || !this.req.complete ? this.received : this.declared;
  }

  /** What undici reads the body from. */
  source(): Readable {
    if (!this.chunked) return this.req;
    return pipeline(this.req, new ByteLimit(this.limitBytes, this), () => {});
  }

  /** The upstream request has started: watch the rest of the body (a stall or the deadline aborts it). */
  start(controller: { abort(reason: Error): void }): void {
    this.controller = controller;
    const { req, watch } = this;
    if (req.complete) return;
    watch.watch(this);
    // A chunked body is counted by ByteLimit; a declared one here, next to undici's own listener.
    if (this.chunked) return;
    req.on('data', (c: Buffer) => {
      this.received += c.length;
      if (this.received >= this.declared) watch.unwatch(this);
      else this.idleSweeps = 0;
    });
  }

  onBodyTimeout(err: AppError): void {
    this.controller?.abort(err);
  }

  onBodyBytes(n: number): void {
    this.received += n;
    this.idleSweeps = 0;
  }

  /** The exchange ended (or the body did): stop watching. */
  stop(): void {
    this.watch.unwatch(this);
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
