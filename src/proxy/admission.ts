import { performance } from 'node:perf_hooks';
import { AppError, errors, fromUnexpected } from '../errors.js';
import { endpointAllowed, modelAllowed } from '../limits/allowlist.js';
import type { AdmitResult, SubjectLimits, Ticket } from '../limits/limits.js';
import { isTextBody } from '../observability/body-redaction.js';
import type { UpstreamKey } from '../projects/upstream-key.js';
import type { TokenIdentity } from '../tokens/authenticator.js';
import type { PricingTable } from '../usage/pricing.js';
import { claimIdempotencyKey, type IdempotentReplay, idempotencyKeyOf } from './idempotent-request.js';
import { chooseKey } from './key-choice.js';
import type { KeyHealth } from './key-health.js';
import type { KeyLoad } from './key-load.js';
import { refusalError, shareRefusal } from './limit-refusal.js';
import type { ProxyDeps } from './proxy-deps.js';
import type { ProxyRequest } from './proxy-request.js';
import { type BodyFacts, bodyPlan, MAX_MODEL_LENGTH, RequestBody } from './request-body.js';
import { requestUnits } from './request-units.js';
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
    /** The origin the request goes to, and whose connection slot it holds (a failover may move it). */
    public upstream: Upstream,
    readonly ticket: Ticket,
    /** The body, when it was read before forwarding (otherwise it is streamed). */
    readonly body: RequestBody | undefined,
    /** A streamed completion may get `stream_options.include_usage` added. */
    readonly includeUsage: boolean,
    /** The body's facts, when a check or estimate needed them. */
    readonly facts: BodyFacts | undefined,
  ) {}

  /**
   * A retry on another origin (failover.ts): takes a slot there if one is free at once, then gives
   * this one back; false (nothing changed) when none is.
   */
  moveTo(next: Upstream): boolean {
    if (next === this.upstream) return true;
    const { tokenId, projectId } = this.identity;
    const got = next.gate.acquire(tokenId, projectId, NO_WAIT);
    if (got === Acquired.Queued) next.gate.cancel(NO_WAIT);
    if (got !== Acquired.Taken) return false;
    this.releaseSlot();
    this.upstream = next;
    this.holdsSlot = true;
    return true;
  }

  /** Gives the upstream connection slot back; once, however often it is called. */
  releaseSlot(): void {
    if (!this.holdsSlot) return;
    this.holdsSlot = false;
    this.upstream.gate.release(this.identity.tokenId, this.identity.projectId);
  }
}

/**
 * What admission decided: let through, refused (answer with the error), a repeat of a completed
 * request (answer with its stored response), or nothing to answer (the client left).
 */
export type AdmissionResult = Admitted | AppError | IdempotentReplay | null;

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
  // Idempotency-Key: the body is read whole, to fingerprint the request.
  const idemKey = idempotencyKeyOf(pr, declared, deps);
  if (idemKey instanceof AppError) return idemKey;

  const inspect = needsBody(identity);
  const contentType = String(req.headers['content-type'] ?? '');
  const chunked = pr.chunked;
  // A text body to be logged (LOG_BODIES) is read whole too; uploads and audio stream as always.
  const toLog = deps.logBodyMaxBytes > 0 && isTextBody(contentType);
  // A JSON body for a pool of keys is held, so a failed attempt can be sent again on another key;
  // so is one that may use the response cache, which keys on the body.
  const forFailover = identity.upstreamKeys.length > 1 && deps.retries.enabled && contentType.includes('json');
  const needed = inspect || toLog || idemKey !== undefined || deps.cache?.wanted(pr, identity) === true;
  const plan = bodyPlan(
    pr.method,
    pr.path,
    contentType,
    declared,
    chunked,
    needed || forFailover,
    deps.streamIncludeUsage,
  );
  let body: RequestBody | undefined;
  // Memory for the body first (body-memory.ts): a refused client is told before it uploads. A body
  // held only for failover streams instead when the memory is taken: it is then sent once.
  const memory = deps.bodyMemory;
  const full = plan.read ? memory.reserve(identity.tokenId, identity.projectId, declared) : undefined;
  if (
    full &&
    (!forFailover || bodyPlan(pr.method, pr.path, contentType, declared, chunked, needed, deps.streamIncludeUsage).read)
  )
    return full;
  if (plan.read && !full) {
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
  // Before any limit: a repeat answered from the store is charged nothing.
  if (idemKey !== undefined) {
    const claimed = await claimIdempotencyKey(pr, identity, idemKey, body, deps);
    if (claimed !== undefined) return claimed;
  }

  // The key decides the upstream, so it is chosen before a connection slot of that upstream is taken.
  if (identity.upstreamKeys.length === 0) return errors.upstreamUnavailable('the project has no enabled upstream key');
  // One key has nowhere else to send: it is never cooled, and the upstream's own answer passes.
  const keys = identity.upstreamKeys;
  const key =
    keys.length === 1
      ? (keys[0] as UpstreamKey)
      : await usableKey(pr, keys, facts?.model ?? '', deps.keyHealth, deps.keyLoad);
  if (key === null) {
    deps.logger.info({ request_id: pr.id, path: pr.path }, 'client went away while every key cooled down');
    return null;
  }
  if (key instanceof AppError) return key;
  pr.upstreamKey = key;

  // A connection slot of the key's upstream before the limits: a request refused here (share,
  // saturation) is charged nothing. Written out here, not in a function of its own: one async step
  // less for every request.
  const upstream = deps.pools.get(key.origin, key.http2);
  const got = upstream.gate.acquire(identity.tokenId, identity.projectId, pr);
  let admitted: AdmissionResult;
  if (got === Acquired.OverShare) admitted = shareRefusal(upstream.gate);
  else if (got === Acquired.Full) admitted = errors.upstreamSaturated('every connection is busy');
  else if (got !== Acquired.Taken && !(await waitForSlot(pr, upstream.gate)))
    admitted = slotWaitEnded(pr, upstream, deps);
  else {
    admitted = await charge(pr, identity, upstream, body, plan.includeUsage, facts, deps);
    if (!(admitted instanceof Admitted)) upstream.gate.release(identity.tokenId, identity.projectId);
  }
  // A half-open key's trial that is not sent frees the trial for another request.
  if (!(admitted instanceof Admitted) && keys.length > 1) deps.keyHealth.report(key.id, facts?.model ?? '', NEUTRAL);
  return admitted;
}

/** The wait for a connection slot ended without one: the client left (nothing to answer), or it timed out. */
function slotWaitEnded(pr: ProxyRequest, upstream: Upstream, deps: ProxyDeps): AppError | null {
  if (pr.clientGone) {
    deps.logger.info({ request_id: pr.id, path: pr.path }, 'client went away while waiting for the upstream');
    return null;
  }
  return errors.upstreamSaturated(`no connection was free within ${upstream.gate.queueTimeoutMs} ms`);
}

const NEUTRAL = { kind: 'neutral' } as const;
/** A failover does not wait for a slot: queued, it leaves the queue at once (synchronously, so alone in it). */
const NO_WAIT = { onSlot: () => {} };

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
  const guess = estimate(pr.family, facts, deps.pricing);
  const charged = chargeLimits(pr.id, identity.limits, guess.tokens, guess.costNanoUsd, deps);
  const ticket = charged instanceof Promise ? await charged : charged;
  if (ticket instanceof AppError) return ticket;
  return new Admitted(identity, upstream, ticket, body, includeUsage, facts);
}

/**
 * Every limit of `subjects` as one atomic step (limits.ts), the refusal as the catalogue's error.
 * Shared by the HTTP path and the Realtime API's sessions and responses (realtime/). Answers
 * synchronously when the limiter does (the in-memory one): no promise on that path.
 */
export function chargeLimits(
  requestId: string,
  subjects: SubjectLimits[],
  estimatedTokens: number,
  estimatedCostNanoUsd: number,
  deps: Pick<ProxyDeps, 'limiter' | 'logger'>,
): Ticket | AppError | Promise<Ticket | AppError> {
  let pending: AdmitResult | Promise<AdmitResult>;
  try {
    pending = deps.limiter.admit({ requestId, subjects, estimatedTokens, estimatedCostNanoUsd });
  } catch (err) {
    return limiterFailed(err, requestId, deps.logger);
  }
  if (!(pending instanceof Promise)) return decided(pending, estimatedCostNanoUsd);
  return pending.then(
    (d) => decided(d, estimatedCostNanoUsd),
    (err: unknown) => limiterFailed(err, requestId, deps.logger),
  );
}

function decided(d: AdmitResult, estimatedCostNanoUsd: number): Ticket | AppError {
  return d.ok ? d.ticket : refusalError(d.refusal, d.rate, estimatedCostNanoUsd);
}

function limiterFailed(err: unknown, requestId: string, logger: ProxyDeps['logger']): AppError {
  // A Redis outage in closed mode is an answer, logged once by the limiter, not per request.
  const outage = err instanceof AppError && err.code === 'limiter_unavailable';
  if (!outage) logger.error({ err: (err as Error).message, request_id: requestId }, 'limiter failed');
  return fromUnexpected(err);
}

/**
 * A key not cooling down for the model (key-health.ts), balanced by load (key-choice.ts), marked
 * taken (a half-open key's trial).
 * When every key cools, waits up to UPSTREAM_COOLDOWN_WAIT_MS for the first to recover (or a
 * trial to succeed); when none can within it, 503 with Retry-After; null when the client left.
 */
async function usableKey(
  pr: ProxyRequest,
  keys: readonly UpstreamKey[],
  model: string,
  health: KeyHealth,
  load: KeyLoad,
): Promise<UpstreamKey | AppError | null> {
  const usable = (k: UpstreamKey) => health.usable(k.id, model);
  let key = keys.find((k) => health.trialDue(k.id, model)) ?? chooseKey(keys, Math.random, usable, load);
  if (!key) {
    const deadline = performance.now() + health.waitMs;
    for (;;) {
      const left = deadline - performance.now();
      const inMs = health.nextUsableInMs(
        keys.map((k) => k.id),
        model,
      );
      if (left <= 0 || inMs > left) return errors.upstreamCoolingDown(Math.max(inMs, 1000));
      if (!(await pause(pr, health, inMs > 0 ? inMs : left))) return null;
      key = chooseKey(keys, Math.random, usable, load);
      if (key) break;
    }
  }
  health.taken(key.id, model);
  return key;
}

/** Waits `ms` or until a key's state changes; false when the client left first. */
async function pause(pr: ProxyRequest, health: KeyHealth, ms: number): Promise<boolean> {
  const wait = health.changed(ms);
  const onClose = () => {
    pr.clientGone = true;
    wait.cancel();
  };
  pr.res.once('close', onClose);
  const ok = await wait.done;
  pr.res.off('close', onClose);
  return ok;
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
    identity.limits.some((s) => s.tokensPerMinute !== null || s.budgetNanoUsd !== null)
  );
}

/**
 * Endpoint allowlists: every list that applies (token's, project's) must allow the request. Paths
 * with dot segments never get here (request-line.ts refuses them first), so a rule matches the
 * path the upstream serves.
 */
export function checkEndpoint(identity: TokenIdentity, method: string, path: string): AppError | undefined {
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
  return checkModel(identity, facts?.model, pricing);
}

/**
 * The model allowlists (a request whose model is unknown is refused while one is set) and, under
 * a budget, a priced model. Shared with the Realtime API, whose model is in the query string.
 */
export function checkModel(
  identity: TokenIdentity,
  model: string | undefined,
  pricing: PricingTable,
): AppError | undefined {
  if (identity.modelRules.length > 0) {
    if (model === undefined) return errors.modelRequired();
    for (const rules of identity.modelRules) if (!modelAllowed(rules, model)) return errors.modelNotAllowed(model);
  }
  if (model && identity.limits.some((s) => s.budgetNanoUsd !== null) && !pricing.resolve(model)) {
    return errors.modelNotPriced(model);
  }
  return undefined;
}

/**
 * Token and cost estimates reserved before forwarding, settled against actual usage afterwards.
 * Tokens: the body's bytes / 4 for the prompt plus the output cap (or DEFAULT_OUTPUT_ESTIMATE) per
 * choice, at the tier the request asks for. Images, speech and transcriptions of a model priced by
 * the image, character or minute reserve by those instead (request-units.ts): n images at their
 * size and quality, the input's characters, the upload's longest possible duration.
 */
export function estimate(
  family: string,
  facts: BodyFacts | undefined,
  pricing: PricingTable,
): { tokens: number; costNanoUsd: number } {
  if (!facts) return { tokens: 0, costNanoUsd: 0 };
  const prompt = Math.ceil(facts.bytes / 4);
  const output = (facts.maxOutputTokens ?? DEFAULT_OUTPUT_ESTIMATE) * facts.choices;
  const serviceTier = facts.serviceTier ?? null;
  const units = requestUnits(family, facts);
  const price = units && pricing.resolve(facts.model)?.price;
  if (units && price && (price.per_image || price.per_minute !== undefined || price.per_1m_characters !== undefined)) {
    const none = { promptTokens: null, completionTokens: null, cachedTokens: null, reasoningTokens: null };
    return { tokens: prompt + output, costNanoUsd: pricing.cost(facts.model, { ...none, units, serviceTier }) ?? 0 };
  }
  const cost = pricing.cost(facts.model, {
    promptTokens: prompt,
    completionTokens: output,
    cachedTokens: 0,
    reasoningTokens: 0,
    serviceTier,
  });
  return { tokens: prompt + output, costNanoUsd: cost ?? 0 };
}
