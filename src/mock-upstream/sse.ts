import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Ctx, resetAfter, responseHeaders } from './http.js';
import { billRequest, type StreamMeter } from './ledger.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/**
 * Streams precomputed SSE frames, honouring ttft/chunk delays and backpressure, and stopping
 * as soon as the client goes away. Every stream ends counted as completed or aborted (a cut one,
 * `x-mock-cut-after`, as aborted; a truncated one, `x-mock-truncate-after`, as completed). With
 * `x-mock-stall-after: N` it sends N frames and then waits for the client to leave.
 * `meter` bills the stream (ledger.ts) once, for the frames it sent: when its last frame goes, or
 * when the client leaves before that.
 */
export async function sendSse(ctx: Ctx, all: readonly string[], meter?: StreamMeter): Promise<void> {
  const { res, settings, state } = ctx;
  const { cutAfter, truncateAfter, stallAfter } = settings;
  const keep = cutAfter ?? truncateAfter ?? stallAfter;
  const frames = keep === undefined ? all : all.slice(0, keep);
  let sent = 0;
  let billed = false;
  const charge = () => {
    if (billed || meter === undefined || sent === 0) return;
    billed = true;
    billRequest(ctx, meter(sent));
  };
  const finish = (last: string): void => {
    // Billed before the end goes out, so a client that has the whole stream finds it in the ledger.
    charge();
    if (cutAfter !== undefined) resetAfter(res, last);
    else if (stallAfter === undefined) res.end(last);
    else if (last.length > 0) res.write(last);
    else res.flushHeaders();
  };
  const { stats } = state;
  if (res.destroyed) {
    stats.abortedStreams++;
    return;
  }
  stats.activeStreams++;
  const gone = new AbortController();
  res.once('close', () => {
    charge();
    gone.abort();
    stats.activeStreams--;
    if (res.writableFinished) stats.completedStreams++;
    else stats.abortedStreams++;
  });
  res.writeHead(200, responseHeaders(ctx, SSE_HEADERS));

  if (settings.ttftMs === 0 && settings.chunkDelayMs === 0) {
    // Nothing to pace: one write is what a benchmark wants.
    const body = frames.join('');
    stats.bytesOut += Buffer.byteLength(body);
    sent = frames.length;
    finish(body);
    return;
  }

  res.flushHeaders();
  const { signal } = gone;
  try {
    for (const [i, frame] of frames.entries()) {
      const delay = i === 0 ? settings.ttftMs : settings.chunkDelayMs;
      if (delay > 0) await sleep(delay, undefined, { signal });
      if (signal.aborted) return;
      stats.bytesOut += Buffer.byteLength(frame);
      sent = i + 1;
      // The last frame goes with the end (or the reset), so a reset comes after it, not before.
      if (i === frames.length - 1) {
        finish(frame);
        return;
      }
      if (!res.write(frame)) await once(res, 'drain', { signal });
    }
    finish('');
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}
