/**
 * A reader that stops early (`llm-proxy openapi | head -1`) closes the pipe; the next write to it
 * fails with EPIPE, which Node reports as an 'error' event on process.stdout. Unhandled, that event
 * kills the process with a stack trace. Well-behaved command-line tools stop quietly instead, as
 * ripgrep does (exit 0, nothing printed): the reader has what it wanted and nobody is listening.
 *
 * So, for the CLI's own process: EPIPE on stdout ends the process at once with exit code 0, writing
 * nothing more; EPIPE on stderr drops further diagnostics (their reader is gone too). Any other
 * write error is thrown as before. The server's log lines do not go through process.stdout (the
 * logger has its own destination, which reports its failures and keeps serving), so a log reader
 * that goes away does not stop `llm-proxy serve`.
 */
export function exitQuietlyOnClosedPipes(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}
