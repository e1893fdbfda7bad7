import SQLite from 'better-sqlite3';
import { HOUR } from '../../src/store/schema.js';

/**
 * Usage history written straight into the hourly rollups of a SQLite database (the server may have
 * it open: WAL lets a second connection write), as the usage writer would have left it after weeks
 * of traffic: a daily rhythm, a few models per token, some errors, a latency histogram. For pages
 * and queries that need history (charts over 90 days) without sending millions of requests.
 */
export interface HistoryOptions {
  tokens: Array<{ id: string; projectId: string }>;
  models: string[];
  hours: number;
  /** The last hour written (epoch ms, any time within it); the history ends there. */
  end: number;
  /** Mean requests per token, model and hour. */
  perHour: number;
}

/** Writes the history; returns how many rollup rows (and latency rows) it wrote. */
export function writeRollupHistory(file: string, o: HistoryOptions): { rollups: number; latency: number } {
  const db = new SQLite(file);
  db.pragma('busy_timeout = 5000');
  const rollup = db.prepare(
    `insert into usage_rollups (bucket_start, token_id, project_id, model, requests, errors, prompt_tokens,
       completion_tokens, total_tokens, cached_tokens, reasoning_tokens, cost_nano_usd, unpriced_requests,
       estimated_requests, duration_ms_sum, bytes_in, bytes_out)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, 0, 0, ?, ?, ?)
     on conflict do nothing`,
  );
  const latency = db.prepare(
    `insert into usage_latency_rollups (bucket_start, token_id, project_id, model, le, count) values (?, ?, ?, ?, ?, ?)
     on conflict do nothing`,
  );
  const last = Math.floor(o.end / HOUR) * HOUR;
  let rollups = 0;
  let lat = 0;
  db.transaction(() => {
    for (let h = 0; h < o.hours; h++) {
      const bucket = last - h * HOUR;
      const hourOfDay = new Date(bucket).getUTCHours();
      // Busy in the (UTC) working day, quiet at night; weekends at half.
      const day = new Date(bucket).getUTCDay();
      const rhythm =
        (0.25 + 0.75 * Math.max(0, Math.sin(((hourOfDay - 6) / 24) * 2 * Math.PI))) * (day % 6 === 0 ? 0.5 : 1);
      o.tokens.forEach((t, ti) => {
        o.models.forEach((model, mi) => {
          const requests = Math.round((o.perHour * rhythm * (1 + ((ti * 7 + mi * 3 + h) % 5) / 4)) / (mi + 1));
          if (requests === 0) return;
          const prompt = requests * (40 + mi * 20);
          const completion = requests * (60 + ti * 2);
          rollup.run(
            bucket,
            t.id,
            t.projectId,
            model,
            requests,
            (h + ti) % 23 === 0 ? 1 : 0,
            prompt,
            completion,
            prompt + completion,
            Math.round((prompt * 0.15 + completion * 0.6) * (mi === 0 ? 10 : 1)),
            requests * 140,
            requests * 400,
            requests * 1600,
          );
          rollups++;
          // Most requests within 100 ms, the rest within 200 ms, one in a while up to 2 s (indices into LATENCY_BUCKETS_MS).
          const slow = h % 7 === 0 ? 1 : 0;
          const split: Array<[number, number]> = [
            [6, Math.ceil((requests - slow) * 0.6)],
            [7, requests],
            [10, slow],
          ];
          let left = requests;
          for (const [le, n] of split) {
            const c = Math.min(n, left);
            if (c <= 0) continue;
            latency.run(bucket, t.id, t.projectId, model, le, c);
            left -= c;
            lat++;
          }
        });
      });
    }
  })();
  db.close();
  return { rollups, latency: lat };
}
