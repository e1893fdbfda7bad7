import type { RefusalSummary } from '../audit/refusal-summary.js';
import { type AppError, InvalidApiKey } from '../errors.js';
import type { Clock } from '../shared/clock.js';
import type { ProxyHooks, RefusedUpgrade } from './hooks.js';

/**
 * Refused requests (and refused WebSocket upgrades) counted into the audit trail's per-minute summaries: in memory, no I/O here.
 * The reason is the error code, except for a 401 on the token, which says which (`missing_token`,
 * `unknown_token`, `token_expired`, `token_revoked` or `project_inactive`) and, for a known
 * token, whose: the authenticator put both on the error.
 */
export function auditHooks(summary: RefusalSummary, now: Clock): ProxyHooks {
  const note = (r: RefusedUpgrade, err: AppError): void => {
    const token = err instanceof InvalidApiKey ? err : undefined;
    summary.note(
      now(),
      token ? token.tokenId : r.identity?.tokenId,
      token ? token.projectId : r.identity?.projectId,
      token ? token.refusal : err.code,
      r.clientIp,
      r.id,
    );
  };
  return { refused: (pr, err) => note(pr, err), upgradeRefused: note };
}
