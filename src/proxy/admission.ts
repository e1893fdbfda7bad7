import { AppError, errors, fromUnexpected } from '../errors.js';
import { endpointAllowed, modelAllowed } from '../limits/allowlist.js';
import type { AdmitResult, Ticket } from '../limits/limits.js';
import { isTextBody } from '../observability/body-redaction.js';
import type { TokenIdentity } from '../tokens/authenticator.js';
import type { PricingTable } from '../usage/pricing.js';
import { refusalError, shareRefusal } from './limit-refusal.js';
import type { ProxyDeps } from './proxy-deps.js';
import type { ProxyRequest } from './proxy-request.js';
import { type BodyFacts, bodyPlan, MAX_MODEL_LENGTH, RequestBody } from './request-body.js';
import { readWhole } from './upload.js';
import { Acquired, type UpstreamGate } from './upstream-gate.js';
import type { Upstream } from './upstream-pools.js';

/** Output tokens assumed for TPM and budget reservations when a request sets no maximum. */
export const DEFAULT_OUTPUT_ESTIMATE = 256;

/** A request let through: what it was charged, where it goes, and its body if it was read. */
export class Admitted {
  private holdsSlot = true;

  constructor(
    private readonly identity: TokenIdentity,
    readonly upstream: Upstream,
    readonly ticket: Ticket,
    /** The body, when it was read before forwarding (otherwise it is streamed). */
    readonly body: RequestBody | undefined,
    /** A streamed completion may get `stream_options.include_usage` added. */
    readonly includeUsage: boolean,
    /** The body's facts, when a check or estimate needed them. */
    readonly facts: BodyFacts | undefined,
  ) {}

  /** Gives the upstream connection slot back; once, however often it is called. */
  releaseSlot(): void {
    if (!this.holdsSlot) return;
    this.holdsSlot = false;
    this.upstream.gate.release(this.identity.tokenId, this.identity.projectId);
  }
}

/** What admission decided: let through, refused (answer with the error), or nothing to answer (the client left). */
export type AdmissionResult = Admitted | AppError | null;

/**
 * Admission, in order: body size and endpoint allowlists → the body, read and parsed only when a
 * check needs it (decided once, in `bodyPlan`), within the memory for bodies being read → model
 * allowlists and pricing → an upstream connection slot → every limit of token and project as one
 * atomic step. A refusal at any step has charged nothing and holds nothing.
 */
export async function admit(pr: ProxyRequest, identity: TokenIdentity, deps: ProxyDeps): Promise<AdmissionResult> {
  const { req } = pr;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > deps.bodyLimitBytes) return errors.bodyTooLarge(deps.bodyLimitBytes);
  const denied = checkEndpoint(identity, pr.method, pr.path);
  if (denied) return denied;

  const inspect = needsBody(identity);
  const contentType = String(req.headers['content-type'] ?? '');
  const chunked = req.headers['transfer-encoding'] !== undefined;
  // A text body to be logged (LOG_BODIES) is read whole too; uploads and audio stream as always.
  const toLog = deps.logBodyMaxBytes > 0 && isTextBody(contentType);
  const plan = bodyPlan(pr.method, pr.path, contentType, declared, chunked, inspect || toLog, deps.streamIncludeUsage);
  let body: RequestBody | undefined;
  if (plan.read) {
    // Memory for the body first (body-memory.ts): a refused client is told before it uploads.
    const memory = deps.bodyMemory;
    const full = memory.reserve(identity.tokenId, identity.projectId, declared);
    if (full) return full;
    pr.letBodyIn();
    try {
      const deadline = deps.bodyWatch.deadline(pr.t0);
      body = new RequestBody(await readWhole(req, deps.bodyWatch, declared, deadline), contentType);
    } catch (err) {
      if (err instanceof AppError) return err;
      deps.logger.info({ request_id: pr.id, path: pr.path }, 'client went away before the request was forwarded');
      return null;
    } finally {
      memory.release(identity.tokenId, identity.projectId, declared);
    }
  }
  const facts = inspect ? body?.facts() : undefined;
  const bad = checkBody(identity, facts, deps.pricing);
  if (bad) return bad;

  // A connection slot before the limits: a request refused here (share, saturation) is charged nothing.
  const upstream = deps.pools.get(identity.upstreamOrigin);
  const got = upstream.gate.acquire(identity.tokenId, identity.projectId, pr);
  if (got === Acquired.OverShare) return shareRefusal(upstream.gate);
  if (got === Acquired.Full) return errors.upstreamSaturated('every connection is busy');
  if (got !== Acquired.Taken && !(await waitForSlot(pr, upstream.gate))) {
    if (pr.clientGone) {
      deps.logger.info({ request_id: pr.id, path: pr.path }, 'client went away while waiting for the upstream');
      return null;
    }
    return errors.upstreamSaturated(`no connection was free within ${upstream.gate.queueTimeoutMs} ms`);
  }
  const admitted = await charge(pr, identity, upstream, body, plan.includeUsage, facts, deps);
  if (!(admitted instanceof Admitted)) upstream.gate.release(identity.tokenId, identity.projectId);
  return admitted;
}

/** The limits, all of token and project as one step; the in-memory limiter answers synchronously. */
async function charge(
  pr: ProxyRequest,
  identity: TokenIdentity,
  upstream: Upstream,
  body: RequestBody | undefined,
  includeUsage: boolean,
  facts: BodyFacts | undefined,
  deps: ProxyDeps,
): Promise<Admitted | AppError> {
  const guess = estimate(facts, deps.pricing);
  let decision: AdmitResult;
  try {
    const pending = deps.limiter.admit({
      requestId: pr.id,
      subjects: identity.limits,
      estimatedTokens: guess.tokens,
      estimatedCostMicroUsd: guess.costMicroUsd,
    });
    decision = pending instanceof Promise ? await pending : pending;
  } catch (err) {
    // A Redis outage in closed mode is an answer, logged once by the limiter, not per request.
    const outage = err instanceof AppError && err.code === 'limiter_unavailable';
    if (!outage) deps.logger.error({ err: (err as Error).message, request_id: pr.id }, 'limiter failed');
    return fromUnexpected(err);
  }
  if (!decision.ok) return refusalError(decision.refusal, decision.rate, guess.costMicroUsd);
  return new Admitted(identity, upstream, decision.ticket, body, includeUsage, facts);
}

/** Waits in the upstream's queue; false when the wait timed out or the client left. */
function waitForSlot(pr: ProxyRequest, gate: UpstreamGate): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      if (!gate.cancel(pr)) return;
      pr.clientGone = true;
      pr.slotWait = undefined;
      resolve(false);
    };
    pr.res.once('close', onClose);
    pr.slotWait = (granted) => {
      pr.res.off('close', onClose);
      resolve(granted);
    };
  });
}

/** Whether this request's body must be read before forwarding (to check or estimate something). */
function needsBody(identity: TokenIdentity): boolean {
  return (
    identity.modelRules.length > 0 ||
    identity.limits.some((s) => s.tokensPerMinute !== null || s.budgetMicroUsd !== null)
  );
}

/**
 * Endpoint allowlists: every list that applies (token's, project's) must allow the request. Paths
 * with dot segments never get here (request-line.ts refuses them first), so a rule matches the
 * path the upstream serves.
 */
function checkEndpoint(identity: TokenIdentity, method: string, path: string): AppError | undefined {
  for (const rules of identity.endpointRules) {
    if (!endpointAllowed(rules, method, path)) return errors.endpointNotAllowed(method, path);
  }
  return undefined;
}

/**
 * What the body must pass, where it was read for a check: a model name no longer than
 * MAX_MODEL_LENGTH; the model allowlists (a request whose model cannot be read is refused while
 * one is set); and under a budget, a priced model (its cost could not be held against it otherwise).
 */
function checkBody(identity: TokenIdentity, facts: BodyFacts | undefined, pricing: PricingTable): AppError | undefined {
  if (facts?.modelTooLong) return errors.modelTooLong(MAX_MODEL_LENGTH);
  const model = facts?.model;
  if (identity.modelRules.length > 0) {
    if (model === undefined) return errors.modelRequired();
    for (const rules of identity.modelRules) if (!modelAllowed(rules, model)) return errors.modelNotAllowed(model);
  }
  if (model && identity.limits.some((s) => s.budgetMicroUsd !== null) && !pricing.resolve(model)) {
    return errors.modelNotPriced(model);
  }
  return undefined;
}

/** Token and cost estimates reserved before forwarding, settled against actual usage afterwards. */
function estimate(facts: BodyFacts | undefined, pricing: PricingTable): { tokens: number; costMicroUsd: number } {
  if (!facts) return { tokens: 0, costMicroUsd: 0 };
  const prompt = Math.ceil(facts.bytes / 4);
  const output = (facts.maxOutputTokens ?? DEFAULT_OUTPUT_ESTIMATE) * facts.choices;
  const cost = pricing.cost(facts.model, {
    promptTokens: prompt,
    completionTokens: output,
    cachedTokens: 0,
    reasoningTokens: 0,
  });
  return { tokens: prompt + output, costMicroUsd: cost ?? 0 };
}
