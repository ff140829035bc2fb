// Version vectors and dots (PROTOCOL.md §4.1). A version vector is a list of
// (replica id, counter ≥ 1) sorted by replica id, absent entries being 0. A dot names one
// write event. Replica ids are node-side ids, never client ids; entries are never pruned.

import { assert } from '../../assert'

export interface Dot {
  readonly replica: number
  readonly counter: number
}

/** Sorted by replica, strictly increasing; every counter ≥ 1. */
export type VersionVector = readonly Dot[]

export function compareDots(a: Dot, b: Dot): number {
  return a.replica - b.replica || a.counter - b.counter
}

export function dotsEqual(a: Dot, b: Dot): boolean {
  return a.replica === b.replica && a.counter === b.counter
}

export function dotKey(d: Dot): string {
  return `${d.replica}:${d.counter}`
}

export function counterOf(vv: VersionVector, replica: number): number {
  // Vectors are short (one entry per node that ever coordinated the key); linear is fine.
  for (const e of vv) {
    if (e.replica === replica) return e.counter
    if (e.replica > replica) return 0
  }
  return 0
}

export function covers(vv: VersionVector, dot: Dot): boolean {
  return dot.counter <= counterOf(vv, dot.replica)
}

/** Pointwise maximum. */
export function mergeVv(a: VersionVector, b: VersionVector): Dot[] {
  const out: Dot[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    const x = a[i]
    const y = b[j]
    if (y === undefined || (x !== undefined && x.replica < y.replica)) {
      out.push(x!)
      i++
    } else if (x === undefined || y.replica < x.replica) {
      out.push(y)
      j++
    } else {
      out.push(x.counter >= y.counter ? x : y)
      i++
      j++
    }
  }
  return out
}

/** The vector with `replica`'s counter set to `counter` (which must not go backwards). */
export function withCounter(vv: VersionVector, replica: number, counter: number): Dot[] {
  assert(counter >= counterOf(vv, replica), 'a version vector counter never goes backwards')
  return mergeVv(vv, [{ replica, counter }])
}

/** a ≤ b pointwise (b has seen everything a has). */
export function descends(b: VersionVector, a: VersionVector): boolean {
  return a.every((e) => covers(b, e))
}

export function vvEqual(a: VersionVector, b: VersionVector): boolean {
  return a.length === b.length && a.every((e, i) => dotsEqual(e, b[i]!))
}

export function checkVv(vv: VersionVector): boolean {
  for (let i = 0; i < vv.length; i++) {
    const e = vv[i]!
    if (!isU32(e.replica) || !Number.isSafeInteger(e.counter) || e.counter < 1) return false
    if (i > 0 && vv[i - 1]!.replica >= e.replica) return false
  }
  return true
}

export function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff
}
