import type { MOCK_HEADERS } from './options.js';

/**
 * What the mock upstream offers besides the OpenAI API, in words: its per-request headers and its
 * control routes. control.ts answers exactly CONTROL_ROUTES, options.ts reads exactly MOCK_HEADERS
 * (the types hold both lists together), and `llm-proxy mock-upstream --help` prints `mockHelp()`.
 * A small file: the CLI's help loads no server.
 */
export const CONTROL_ROUTES = {
  'GET /__mock/stats': 'counters: requests, streams (active, completed, aborted), held requests, bytes',
  'GET /__mock/requests': 'the last 1000 requests: method, path, headers as received, body size, time',
  'POST /__mock/release': 'let the requests held by x-mock-hold: 1 go on (answers how many)',
  'GET /__mock/ledger': 'what the mock billed, oldest first (see below): {data: [entries], dropped}',
  'POST /__mock/reset': 'zero the stats, forget the recorded requests and empty the ledger',
  'POST /__mock/batches/complete': 'run every unfinished batch to its end now (answers how many)',
  'POST /__mock/batches/expire': 'expire every unfinished batch now, with the lines it had done (answers how many)',
} as const;

export type ControlRoute = keyof typeof CONTROL_ROUTES;

type MockHeader = (typeof MOCK_HEADERS)[keyof typeof MOCK_HEADERS];

export const MOCK_HEADER_HELP: Record<MockHeader, string> = {
  'x-mock-status': 'answer with this error status (400-599) and OpenAI’s error body',
  'x-mock-latency-ms': 'delay before the response headers',
  'x-mock-chunks': 'content chunks (completion tokens) of a streamed completion',
  'x-mock-ttft-ms': 'delay before the first SSE event',
  'x-mock-chunk-delay-ms': 'delay between SSE events',
  'x-mock-hold': '1: hold the request until POST /__mock/release (or until the client leaves)',
  'x-mock-cut-after': 'reset the connection after N SSE events of a stream, or N bytes of another body',
  'x-mock-truncate-after': 'end a stream cleanly after N SSE events, without the rest ([DONE], the final event)',
  'x-mock-stall-after': 'send N SSE events of a stream, then nothing until the client leaves',
  'x-mock-cached-tokens': 'report N of the prompt tokens as cached (chat, responses)',
  'x-mock-reasoning-tokens': 'report N reasoning tokens, counted in the output tokens (chat, responses)',
};

/** How the ledger decides what is billed (ledger.ts), as OpenAI bills. */
export const LEDGER_HELP = [
  "The ledger (GET /__mock/ledger) bills, under the response's x-request-id (a realtime response's id):",
  '  - a successful answer: the usage it reported (a stream: also when the client did not ask for it);',
  '  - a stream cut (x-mock-cut-after), truncated (x-mock-truncate-after) or left by its client: the',
  '    whole prompt and the output of the events it sent (nothing if it sent no event);',
  '  - a realtime response at response.done; one cut mid-response (?mock_cut_response=N): its input',
  '    and the output of the deltas it sent;',
  '  - DALL·E images by the image ({images, size, quality}), speech by the character ({characters}),',
  '    whisper-1 by the second ({type: duration, seconds}); other models by their usage;',
  "  - a batch's lines under each line's request_id, at the batch tier; a background response under",
  '    its id, when it completes (or its input, when cancelled in progress);',
  '  - a failed request (4xx, 5xx): nothing.',
].join('\n');

const rows = (entries: [string, string][]) => {
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
};

/** The text after the flags in `llm-proxy mock-upstream --help`. */
export function mockHelp(): string {
  return [
    '',
    'Per-request headers (for one request, over the flags):',
    rows(Object.entries(MOCK_HEADER_HELP)),
    '',
    'Control routes (not authenticated, counted or recorded):',
    rows(Object.entries(CONTROL_ROUTES)),
    '',
    LEDGER_HELP,
  ].join('\n');
}
