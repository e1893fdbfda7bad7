import type { ServerResponse } from 'node:http';
import { constants, type Http2ServerResponse } from 'node:http2';

/**
 * Endpoint families whose streams end with a final event the client waits for: `data: [DONE]`
 * (chat and legacy completions) or `response.completed|incomplete|failed` (the Responses API).
 * Their stream ending without it is a truncation. Other streams (audio, assistants) are passed as
 * they end.
 */
export const STREAMS_WITH_FINAL_EVENT = new Set(['chat.completions', 'completions', 'responses']);

/**
 * The upstream ended an event stream cleanly at the HTTP level but before its final event: a
 * failure it did not report, which the client would otherwise take for a complete answer.
 */
export class StreamTruncated extends Error {
  readonly code = 'upstream_stream_truncated';
  constructor() {
    super('the upstream ended the stream before its final event');
  }
}

/**
 * Ends a response that has started as broken, never as complete, so the client's read fails
 * instead of ending: HTTP/1.1 closes the connection without the body's terminator (or short of its
 * content-length); HTTP/2 resets the stream with INTERNAL_ERROR (a plain destroy would send
 * RST_STREAM with NO_ERROR, which a client may read as a clean end). The cut waits for the next
 * turn of the event loop: node:http holds what was written in this one (corked) and a cut now
 * would drop it, so the client would get less than was relayed.
 */
export function cutResponse(res: ServerResponse): void {
  setImmediate(cutNow, res);
}

function cutNow(res: ServerResponse): void {
  const stream = (res as unknown as Http2ServerResponse).stream;
  if (stream !== undefined) {
    if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  res.destroy();
}
