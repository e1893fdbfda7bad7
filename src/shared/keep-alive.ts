/**
 * Keeps the process alive until `work` settles. Node ends a process whose event loop has nothing
 * left that holds it, even with a promise still pending: a shutdown step that awaits only handles
 * that do not hold the loop (an unref'd timer, worker or socket) would end the process there, with
 * exit code 0 and the rest of the sequence (writes, closes, the last log line) never run.
 */
export async function keepAliveUntil<T>(work: Promise<T>): Promise<T> {
  // Ref'd, and far longer than any shutdown: it only holds the loop, it never fires.
  const hold = setInterval(() => {}, 2 ** 30);
  try {
    return await work;
  } finally {
    clearInterval(hold);
  }
}
