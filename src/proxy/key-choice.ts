import type { UpstreamKey } from '../projects/upstream-key.js';
import type { KeyLoad } from './key-load.js';

/**
 * Which of a project's enabled upstream keys a request is sent with, among those `usable` allows
 * (not cooling down: key-health.ts). The one place the choice is made.
 *
 * With `load` (key-load.ts), weighted power of two choices: keys out of rate-limit headroom are
 * passed over while another has some; of the rest, two distinct keys are drawn at random in
 * proportion to their weights and the cheaper one, (in flight + 1) × peak-EWMA latency ÷ weight,
 * is taken (linkerd's and Finagle's P2C). When every usable key is out of headroom, the one whose
 * window resets first: the upstream decides, the proxy does not refuse. Without `load`, one key
 * at random in proportion to the weights.
 *
 * A project with one key (most) costs a length check and one `usable` call; with several, a few
 * walks over the keys and two random numbers, allocating nothing. Undefined when no key is usable.
 */
export function chooseKey(
  keys: readonly UpstreamKey[],
  random: () => number = Math.random,
  usable: (k: UpstreamKey) => boolean = always,
  load?: KeyLoad,
): UpstreamKey | undefined {
  if (keys.length <= 1) {
    const only = keys[0];
    return only && usable(only) ? only : undefined;
  }
  const t = load ? load.now() : 0;
  // Most of the time no key is out of headroom, and no window is read.
  const headroom = load?.anySpent ? load : undefined;
  let total = 0;
  let count = 0;
  let soonest: UpstreamKey | undefined;
  let soonestAt = Number.POSITIVE_INFINITY;
  for (const k of keys) {
    if (!usable(k)) continue;
    const spent = headroom ? headroom.exhaustedUntil(k.id, t) : 0;
    if (spent > 0) {
      if (spent < soonestAt) {
        soonestAt = spent;
        soonest = k;
      }
      continue;
    }
    total += k.weight;
    count++;
  }
  if (count === 0) return soonest;
  if (headroom && soonest) headroom.headroomSkips++;
  const a = pick(keys, random() * total, usable, headroom, t, undefined);
  if (!load || count === 1 || !a) return a;
  const b = pick(keys, random() * (total - a.weight), usable, headroom, t, a);
  if (!b) return a;
  return load.cost(b.id, b.weight, t) < load.cost(a.id, a.weight, t) ? b : a;
}

/** The key at `point` of the eligible keys' weights laid end to end (`except` left out). */
function pick(
  keys: readonly UpstreamKey[],
  point: number,
  usable: (k: UpstreamKey) => boolean,
  headroom: KeyLoad | undefined,
  t: number,
  except: UpstreamKey | undefined,
): UpstreamKey | undefined {
  let last: UpstreamKey | undefined;
  for (const k of keys) {
    if (k === except || !usable(k) || (headroom && headroom.exhaustedUntil(k.id, t) > 0)) continue;
    point -= k.weight;
    last = k;
    if (point < 0) return k;
  }
  return last;
}

const always = (): boolean => true;
