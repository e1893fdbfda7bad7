import { type AppError, errors } from '../errors.js';
import { Shares } from './upstream-gate.js';

/**
 * The memory for request bodies the proxy reads whole before forwarding (request-body.ts
 * `bodyPlan`: up to 16 MiB each): at most PROXY_BODY_MEMORY_BYTES for all of them at once, and of
 * that at most PROXY_BODY_MEMORY_SHARE_PERCENT for one token, or one project. Without a bound, a
 * client that declares large bodies and sends them a byte at a time makes the proxy hold them all.
 * A body is charged its declared length (bodies are read whole only when it is declared) before any
 * of it is let in, and given back once it has been read or the read failed: O(1), two map lookups
 * each way. A body always fits an empty budget and a token's or project's first body its share, so
 * settings smaller than a body slow requests down but never refuse one for good.
 */
export class BodyMemory {
  /** Bytes charged now (llm_proxy_request_body_bytes_held). */
  held = 0;
  /** Most bytes one token or project may hold; Infinity when the memory is not bounded. */
  readonly shareBytes: number;
  private readonly byToken = new Shares();
  private readonly byProject = new Shares();

  /** `limitBytes` 0: no bound (the bytes are still counted). */
  constructor(
    readonly limitBytes: number,
    sharePercent: number,
  ) {
    this.shareBytes = limitBytes === 0 ? Infinity : Math.floor((limitBytes * sharePercent) / 100);
  }

  /** Charges `bytes` to the token and its project, or says why they do not fit (nothing charged). */
  reserve(tokenId: string, projectId: string, bytes: number): AppError | undefined {
    if (this.limitBytes > 0) {
      const t = this.byToken.of(tokenId);
      const p = this.byProject.of(projectId);
      const cap = this.shareBytes;
      if ((t.n > 0 && t.n + bytes > cap) || (p.n > 0 && p.n + bytes > cap)) return errors.bodyMemoryShare(cap);
      if (this.held > 0 && this.held + bytes > this.limitBytes) return errors.serverBusy();
      t.n += bytes;
      p.n += bytes;
    }
    this.held += bytes;
    return undefined;
  }

  /** Gives back what `reserve` charged. */
  release(tokenId: string, projectId: string, bytes: number): void {
    if (this.limitBytes > 0) {
      this.byToken.of(tokenId).n -= bytes;
      this.byProject.of(projectId).n -= bytes;
    }
    this.held -= bytes;
  }
}
