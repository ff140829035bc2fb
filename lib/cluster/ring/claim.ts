// Claim: which node owns each partition (PROTOCOL.md §2.2). Balanced within ±1,
// deterministic, minimal movement from a previous ring, spread over nodes/hosts/racks/dcs.
// Pure; the membership module calls it on every explicit change.

import { assert } from '../../assert'
import { replicasMax } from '../../constants'
import { assertPartitionCount } from './partition'
import { dcKey, hostKey, interleavedOrder, rackKey, type PlacedNode } from './labels'

const free = -1

/** Owners for `partitions` partitions over `nodes` (the claiming nodes), from `previous` if given. */
export function claim(nodes: readonly PlacedNode[], partitions: number, previous?: readonly number[]): number[] {
  assertPartitionCount(partitions)
  assert(nodes.length >= 1, 'claim needs at least one node')
  assert(new Set(nodes.map((n) => n.id)).size === nodes.length, 'node ids must be unique')
  if (previous === undefined) {
    const order = interleavedOrder(nodes)
    return Array.from({ length: partitions }, (_, p) => order[p % order.length]!.id)
  }
  assert(previous.length === partitions, 'previous ring has a different partition count')
  return reclaim(nodes, partitions, previous)
}

/** Balanced targets: floor(Q/n) each, +1 for the Q mod n nodes owning most now (ties: lower id). */
export function claimTargets(ids: readonly number[], partitions: number, counts: ReadonlyMap<number, number>): Map<number, number> {
  const base = Math.floor(partitions / ids.length)
  const extra = partitions % ids.length
  const ranked = [...ids].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || a - b)
  return new Map(ranked.map((id, i) => [id, base + (i < extra ? 1 : 0)]))
}

function reclaim(nodes: readonly PlacedNode[], q: number, previous: readonly number[]): number[] {
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const owners = previous.map((o) => (byId.has(o) ? o : free))
  const counts = new Map<number, number>(nodes.map((n) => [n.id, 0]))
  for (const o of owners) if (o !== free) counts.set(o, counts.get(o)! + 1)
  const targets = claimTargets([...byId.keys()], q, counts)
  const window = Math.min(replicasMax - 1, Math.floor((q - 1) / 2))

  // Free surplus: partitions whose neighbours share the owner first, then highest index.
  const conflicts = owners.map((o, p) => (o === free ? 0 : neighbours(q, p, window).filter((x) => owners[x] === o).length))
  for (const [id, target] of targets) {
    const surplus = counts.get(id)! - target
    if (surplus <= 0) continue
    const mine = owners.flatMap((o, p) => (o === id ? [p] : []))
    mine.sort((a, b) => conflicts[b]! - conflicts[a]! || b - a)
    for (const p of mine.slice(0, surplus)) owners[p] = free
    counts.set(id, target)
  }

  // Fill freed partitions in index order with the best-scoring under-target node.
  for (let p = 0; p < q; p++) {
    if (owners[p] !== free) continue
    let best: PlacedNode | undefined
    let bestScore: number[] = []
    const around = neighbours(q, p, window)
    for (const n of nodes) {
      const deficit = targets.get(n.id)! - counts.get(n.id)!
      if (deficit <= 0) continue
      const score = [...sameLabels(owners, byId, n, around), -deficit, n.id]
      if (best === undefined || lexLess(score, bestScore)) {
        best = n
        bestScore = score
      }
    }
    assert(best !== undefined, 'claim: a free partition with no under-target node')
    owners[p] = best.id
    counts.set(best.id, counts.get(best.id)! + 1)
  }
  return owners
}

/** Distinct positions within `w` of p on either side, excluding p. */
function neighbours(q: number, p: number, w: number): number[] {
  const out = new Set<number>()
  for (let d = 1; d <= w; d++) {
    out.add((p + d) % q)
    out.add((p - d + q) % q)
  }
  out.delete(p)
  return [...out]
}

/** Counts of neighbours with the same node, host, rack, dc as `n` (fewer is better). */
function sameLabels(owners: readonly number[], byId: ReadonlyMap<number, PlacedNode>, n: PlacedNode, around: readonly number[]): number[] {
  const s = [0, 0, 0, 0]
  for (const x of around) {
    const o = owners[x]!
    if (o === free) continue
    const m = byId.get(o)!
    if (o === n.id) s[0]!++
    if (hostKey(m) === hostKey(n)) s[1]!++
    if (rackKey(m) === rackKey(n)) s[2]!++
    if (dcKey(m) === dcKey(n)) s[3]!++
  }
  return s
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]!
  }
  return false
}

/** Partitions whose owner differs between two rings (for handoff planning and tests). */
export function movedPartitions(before: readonly number[], after: readonly number[]): number[] {
  assert(before.length === after.length, 'rings differ in size')
  return before.flatMap((o, p) => (after[p] !== o ? [p] : []))
}
