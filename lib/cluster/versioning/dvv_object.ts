// The stored object of one key: a version vector and its siblings, one dot each
// (PROTOCOL.md §4.1; Almeida et al., "Scalable and Accurate Causality Tracking for Eventually
// Consistent Stores", and Riak's dvvset). Invariants: every sibling's dot is covered by the
// vv; dots are unique; siblings are sorted by dot. All functions are pure and return new objects.

import { assert } from '../../assert'
import { compareDots, counterOf, covers, dotKey, dotsEqual, mergeVv, withCounter, checkVv, type Dot, type VersionVector } from './version_vector'

export interface Sibling {
  readonly dot: Dot
  /** Coordinator wall clock at the write (LWW order, TTL base). */
  readonly timestampMs: number
  /** 0 = never expires. */
  readonly expiresAtMs: number
  readonly tombstone: boolean
  /** Empty for a tombstone. */
  readonly value: Buffer
}

export interface DvvObject {
  readonly vv: VersionVector
  readonly siblings: readonly Sibling[]
}

/** What a client write supplies; the dot is made by update(). */
export type NewSibling = Omit<Sibling, 'dot'>

/** A causal context as the core uses it (§4.4): a vv plus single dots beyond it. */
export interface Context {
  readonly vv: VersionVector
  readonly dots: readonly Dot[]
}

export const emptyContext: Context = { vv: [], dots: [] }
export const emptyObject: DvvObject = { vv: [], siblings: [] }

export function contextCovers(ctx: Context, dot: Dot): boolean {
  return covers(ctx.vv, dot) || ctx.dots.some((d) => dotsEqual(d, dot))
}

/** Replica merge (§4.1): commutative, associative, idempotent. */
export function sync(a: DvvObject, b: DvvObject): DvvObject {
  const inB = new Set(b.siblings.map((s) => dotKey(s.dot)))
  const inA = new Set(a.siblings.map((s) => dotKey(s.dot)))
  const keep: Sibling[] = a.siblings.filter((s) => inB.has(dotKey(s.dot)) || !covers(b.vv, s.dot))
  for (const s of b.siblings) {
    if (!inA.has(dotKey(s.dot)) && !covers(a.vv, s.dot)) keep.push(s)
  }
  return { vv: mergeVv(a.vv, b.vv), siblings: keep.sort((x, y) => compareDots(x.dot, y.dot)) }
}

/** The siblings of `obj` not covered by `ctx` (what a write with `ctx` leaves in place). */
export function discard(obj: DvvObject, ctx: Context): DvvObject {
  return { vv: obj.vv, siblings: obj.siblings.filter((s) => !contextCovers(ctx, s.dot)) }
}

/**
 * A client write at replica `replica` (§4.1): discards what `ctx` covers, then adds `sibling`
 * with a fresh dot, above `counterFloor` (the replica's counters in objects it may have
 * dropped, §4.5). Returns the new object and the dot.
 */
export function update(stored: DvvObject, ctx: Context, replica: number, sibling: NewSibling, counterFloor = 0): { object: DvvObject; dot: Dot } {
  let n = Math.max(counterOf(stored.vv, replica), counterOf(ctx.vv, replica), counterFloor)
  for (const d of ctx.dots) if (d.replica === replica) n = Math.max(n, d.counter)
  const dot: Dot = { replica, counter: n + 1 }
  const kept = discard(stored, ctx).siblings
  const vv = withCounter(mergeVv(stored.vv, ctx.vv), replica, dot.counter)
  return { object: { vv, siblings: [...kept, { ...sibling, dot }].sort((x, y) => compareDots(x.dot, y.dot)) }, dot }
}

/**
 * When the object is dead (§4.5): the latest of its tombstones' timestamps and its siblings'
 * expiries, if every sibling is a tombstone or expires; else 0 (never).
 */
export function deadAtMs(obj: DvvObject): number {
  let at = 0
  for (const s of obj.siblings) {
    const t = s.tombstone ? s.timestampMs : s.expiresAtMs
    if (t === 0) return 0
    if (t > at) at = t
  }
  return at
}

/**
 * The context a client write at `replica` returns (§4.4): `ctx` (the client's context plus the
 * new dot) with `vv[replica]` raised to the object's when `ctx` covers every sibling of that
 * replica in the object. The counters this also covers are events the replica superseded or
 * dropped, or counters it never issued for the key (below its floor, §4.5), none of which a
 * later write can wrongly discard; without it, a client that keeps writing with the returned
 * context past a floor would carry one more dot per write.
 */
export function foldOwnCounter(ctx: Context, obj: DvvObject, replica: number): Context {
  const top = counterOf(obj.vv, replica)
  if (counterOf(ctx.vv, replica) >= top) return ctx
  for (const s of obj.siblings) if (s.dot.replica === replica && !contextCovers(ctx, s.dot)) return ctx
  return { vv: withCounter(ctx.vv, replica, top), dots: ctx.dots.filter((d) => d.replica !== replica || d.counter > top) }
}

/** The context a get returns for an object. */
export function join(obj: DvvObject): Context {
  return { vv: obj.vv, dots: [] }
}

/**
 * The context a set returns: the client's context plus the new dot, folded into the vv
 * when contiguous (§4.4). Dots already covered are dropped.
 */
export function contextAfterWrite(ctx: Context, dot: Dot): Context {
  let vv: VersionVector = ctx.vv
  const pending = [...ctx.dots, dot].filter((d) => !covers(vv, d)).sort(compareDots)
  let folded = true
  while (folded) {
    folded = false
    for (let i = 0; i < pending.length; i++) {
      const d = pending[i]!
      if (d.counter === counterOf(vv, d.replica) + 1) {
        vv = withCounter(vv, d.replica, d.counter)
        pending.splice(i, 1)
        folded = true
        break
      }
    }
  }
  return { vv, dots: pending.filter((d) => !covers(vv, d)) }
}

/** Same vv and the same set of dots: replicas holding equal objects need no repair. */
export function objectsEquivalent(a: DvvObject, b: DvvObject): boolean {
  if (a === b) return true
  if (a.vv.length !== b.vv.length || a.siblings.length !== b.siblings.length) return false
  if (!a.vv.every((e, i) => dotsEqual(e, b.vv[i]!))) return false
  return a.siblings.every((s, i) => dotsEqual(s.dot, b.siblings[i]!.dot))
}

/** Siblings that read as live at `nowMs` (not tombstones, not expired). */
export function liveSiblings(obj: DvvObject, nowMs: number): Sibling[] {
  return obj.siblings.filter((s) => isLive(s, nowMs))
}

/** A sibling that reads as a value at `nowMs`: not a tombstone, not expired (§4.5). */
export function isLive(s: { readonly tombstone: boolean; readonly expiresAtMs: number }, nowMs: number): boolean {
  return !s.tombstone && (s.expiresAtMs === 0 || s.expiresAtMs > nowMs)
}

/**
 * `obj` without its dead siblings (tombstones, and values expired at `nowMs`) other than the
 * one with dot `keep`: the vv still covers them, so replica merges drop them too (§4.3).
 */
export function withoutDeadSiblings(obj: DvvObject, nowMs: number, keep: Dot): DvvObject {
  const kept = (s: Sibling): boolean => isLive(s, nowMs) || dotsEqual(s.dot, keep)
  return obj.siblings.every(kept) ? obj : { vv: obj.vv, siblings: obj.siblings.filter(kept) }
}

/** Structural invariants (§4.1); used by decode and by tests. */
export function checkObject(obj: DvvObject): string | undefined {
  if (!checkVv(obj.vv)) return 'version vector not sorted or has a zero counter'
  for (let i = 0; i < obj.siblings.length; i++) {
    const s = obj.siblings[i]!
    if (!covers(obj.vv, s.dot) || s.dot.counter < 1) return `sibling dot ${dotKey(s.dot)} not covered by the vv`
    if (i > 0 && compareDots(obj.siblings[i - 1]!.dot, s.dot) >= 0) return 'sibling dots not strictly increasing'
    if (s.tombstone && s.value.length !== 0) return 'a tombstone carries a value'
    if (!Number.isSafeInteger(s.timestampMs) || s.timestampMs < 0 || !Number.isSafeInteger(s.expiresAtMs) || s.expiresAtMs < 0) return 'bad timestamps'
  }
  return undefined
}

export function assertObject(obj: DvvObject): void {
  const why = checkObject(obj)
  assert(why === undefined, `invalid object: ${why}`)
}

/** LWW order: timestamp, then dot (a total order, so every replica picks the same winner). */
export function compareSiblingsLww(a: Sibling, b: Sibling): number {
  return a.timestampMs - b.timestampMs || compareDots(a.dot, b.dot)
}
