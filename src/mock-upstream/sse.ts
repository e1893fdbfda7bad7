import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Ctx, resetAfter, responseHeaders } from './http.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/**
 * Streams precomputed SSE frames, honouring ttft/chunk delays and backpressure, and stopping
 * as soon as the client goes away. Every stream ends counted as completed or aborted (a cut one,
 * `x-mock-cut-after`, as aborted; a truncated one, `x-mock-truncate-after`, as completed).
 */
export async function sendSse(ctx: Ctx, all: readonly string[]): Promise<void> {
  const { res, settings, state } = ctx;
  const { cutAfter, truncateAfter } = settings;
  const keep = cutAfter ?? truncateAfter;
  const frames = keep === undefined ? all : all.slice(0, keep);
  const finish = (last: string): void => {
    if (cutAfter !== undefined) resetAfter(res, last);
    else res.end(last);
  };
  const { stats } = state;
  if (res.destroyed) {
    stats.abortedStreams++;
    return;
  }
  stats.activeStreams++;
  const gone = new AbortController();
  res.once('close', () => {
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
