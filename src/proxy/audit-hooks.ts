import type { RefusalSummary } from '../audit/refusal-summary.js';
import type { Clock } from '../shared/clock.js';
import type { Authenticator } from '../tokens/authenticator.js';
import { presentedToken } from './headers.js';
import type { ProxyHooks } from './hooks.js';

/**
 * Refused requests counted into the audit trail's per-minute summaries: in memory, no I/O here.
 * The reason is the error code, except for a 401 on the token, which says which: `missing_token`,
 * `unknown_token`, `token_expired`, `token_revoked` or `project_inactive` (a known token's refusal
 * carries its id, from the token cache, which the lookup just filled).
 */
export function auditHooks(summary: RefusalSummary, authenticator: Authenticator, now: Clock): ProxyHooks {
  return {
    refused: (pr, err) => {
      let tokenId = pr.identity?.tokenId;
      let projectId = pr.identity?.projectId;
      let reason: string = err.code;
      if (err.code === 'invalid_api_key' && !pr.identity) {
        const presented = presentedToken(pr.req.headers);
        const known = presented === undefined ? undefined : authenticator.refusalOf(presented);
        reason = presented === undefined ? 'missing_token' : (known?.reason ?? 'unknown_token');
        tokenId = known?.tokenId;
        projectId = known?.projectId;
      }
      summary.note(now(), tokenId, projectId, reason, pr.clientIp, pr.id);
    },
  };
}
