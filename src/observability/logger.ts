import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino censors wherever they appear in a log object. Secrets should never be logged in the
 * first place; this is the safety net for a header object or request body logged by mistake.
 */
export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  '*.*.authorization',
  'api-key',
  '*["api-key"]',
  '*.*["api-key"]',
  'api_key',
  '*.api_key',
  'token',
  '*.token',
  'managementToken',
  '*.managementToken',
];

export interface LoggerOptions {
  level: string;
  file?: string | undefined;
  /** Tests pass a stream to capture output. */
  stream?: NodeJS.WritableStream;
}

/**
 * JSON-lines logger. Output goes through an asynchronous sonic-boom destination, so a slow disk or
 * pipe never blocks a request; buffered lines are flushed on shutdown.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const options = {
    level: opts.level,
    base: { service: 'llm-proxy' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (opts.stream) return pino(options, opts.stream);
  if (opts.file) mkdirSync(path.dirname(path.resolve(opts.file)), { recursive: true });
  const dest = pino.destination({ dest: opts.file ?? 1, sync: false, mkdir: true });
  return pino(options, dest);
}

/** Flushes buffered log lines; call before exit. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
