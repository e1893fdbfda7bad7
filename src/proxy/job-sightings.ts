import type { JobSighting, JobStart } from '../jobs/job-kinds.js';
import { isFinished } from '../jobs/job-kinds.js';
import type { TokenIdentity } from '../tokens/authenticator.js';
import type { ProxyRequest } from './proxy-request.js';
import type { CapturedUsage } from './usage-extract.js';

/** Where the proxy reports batches and background responses it sees (jobs/job-follower.ts). */
export interface JobTracker {
  created(job: JobStart): void;
  seen(s: JobSighting): void;
}

/**
 * A batch or background response in an answer: tells the follower, and says whether the
 * request's own record must leave the usage out (it is recorded once, by the follower, as the
 * job's). Only bodies that were a batch or response object get here (`u.job`): nothing for chat.
 *
 * - `POST /v1/batches` answered 200: the batch is followed.
 * - `POST /v1/responses` with `background: true`, answered unfinished: followed; its record has
 *   no usage (a stream cut midway would otherwise count what the follower will record). One that
 *   finished in the same answer (a streamed background run that went to the end) keeps its usage
 *   in its own record and is not followed.
 * - A retrieval or cancel of a response (`GET|POST /v1/responses/{id}…`): never carries usage in
 *   its own record (retrieving is not billed); a finished background one is recorded by the
 *   follower, if the proxy followed it. A finished batch seen this way is polled at once.
 */
export function noteJob(pr: ProxyRequest, u: CapturedUsage, status: number, jobs: JobTracker | undefined): boolean {
  const job = u.job;
  if (!job) return false;
  const create = pr.method === 'POST' && (pr.path === '/v1/batches' || pr.path === '/v1/responses');
  if (create) {
    if (status !== 200 || !job.background) return false;
    if (job.kind === 'response' && isFinished('response', job.status) && u.totalTokens !== null) return false;
    const identity = pr.identity as TokenIdentity;
    jobs?.created({
      kind: job.kind,
      id: job.id,
      status: job.status,
      tokenId: identity.tokenId,
      projectId: identity.projectId,
      upstreamKeyId: pr.upstreamKey?.id ?? null,
      endpoint: job.kind === 'batch' ? (job.endpoint ?? '/v1/batches') : '/v1/responses',
      completionWindow: job.completionWindow,
    });
    return job.kind === 'response';
  }
  if (status === 200 && job.background) jobs?.seen({ kind: job.kind, id: job.id, status: job.status, usage: u });
  return job.kind === 'response';
}
