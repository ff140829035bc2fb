// Preference lists (PROTOCOL.md §2.3): for a partition, N distinct nodes chosen from the
// walk of the ring, spread over dcs, racks and hosts where labels allow; the rest of the
// walk is the fallback order for sloppy quorum. Depends on the ring and labels only,
// never on health.

import { assert } from '../../assert'
import { dcKey, hostKey, rackKey, type PlacedNode } from './labels'
import { partitionOfHash, partitionOfKey } from './partition'
import type { KeyLike } from '../../util/bytes'

export interface PreferenceEntry {
  /** min(N, owners) distinct nodes; primaries[0] owns the partition. */
  readonly primaries: readonly number[]
  /** The rest of the walk, in walk order. */
  readonly fallbacks: readonly number[]
}

/** Distinct owners met walking clockwise from partition p, each at its first appearance. */
export function walkOwners(owners: readonly number[], p: number): number[] {
  assert(Number.isInteger(p) && p >= 0 && p < owners.length, `partition out of range: ${p}`)
  const seen = new Set<number>()
  const out: number[] = []
  for (let i = 0; i < owners.length; i++) {
    const o = owners[(p + i) % owners.length]!
    if (!seen.has(o)) {
      seen.add(o)
      out.push(o)
    }
  }
  return out
}

/** Greedy choice of N from a walk: first node with the best (new dc, new rack, new host). */
export function choosePrimaries(walk: readonly number[], n: number, nodeOf: (id: number) => PlacedNode): number[] {
  assert(Number.isInteger(n) && n >= 1, `N must be a positive integer, got ${n}`)
  const taken = new Set<number>()
  const dcs = new Set<string>()
  const racks = new Set<string>()
  const hosts = new Set<string>()
  const out: number[] = []
  while (out.length < n && out.length < walk.length) {
    let best = -1
    let bestScore = -1
    for (const id of walk) {
      if (taken.has(id)) continue
      const node = nodeOf(id)
      const score = (dcs.has(dcKey(node)) ? 0 : 4) + (racks.has(rackKey(node)) ? 0 : 2) + (hosts.has(hostKey(node)) ? 0 : 1)
      if (score > bestScore) {
        best = id
        bestScore = score
        if (score === 7) break
      }
    }
    const node = nodeOf(best)
    taken.add(best)
    dcs.add(dcKey(node))
    racks.add(rackKey(node))
    hosts.add(hostKey(node))
    out.push(best)
  }
  return out
}

export function preferenceEntry(owners: readonly number[], p: number, n: number, nodeOf: (id: number) => PlacedNode): PreferenceEntry {
  const walk = walkOwners(owners, p)
  const primaries = choosePrimaries(walk, n, nodeOf)
  const chosen = new Set(primaries)
  return { primaries, fallbacks: walk.filter((id) => !chosen.has(id)) }
}

/**
 * Preference entries of every partition for one ring and N, computed on first use and
 * cached. Drivers build a new table when the membership epoch changes.
 */
export class PreferenceTable {
  private readonly cache: (PreferenceEntry | undefined)[]
  private readonly byId: ReadonlyMap<number, PlacedNode>

  constructor(
    readonly owners: readonly number[],
    nodes: readonly PlacedNode[],
    readonly replicas: number,
  ) {
    this.byId = new Map(nodes.map((x) => [x.id, x]))
    for (const o of owners) assert(this.byId.has(o), `ring owner ${o} is not a known node`)
    this.cache = new Array<PreferenceEntry | undefined>(owners.length).fill(undefined)
  }

  get partitions(): number {
    return this.owners.length
  }

  entry(p: number): PreferenceEntry {
    let e = this.cache[p]
    if (e === undefined) {
      e = preferenceEntry(this.owners, p, this.replicas, (id) => this.byId.get(id)!)
      this.cache[p] = e
    }
    return e
  }

  /** The partition of a key on this ring. */
  partitionOf(key: KeyLike): number {
    return partitionOfKey(key, this.owners.length)
  }

  /** The partition of a ring hash (ringHash of a key) on this ring. */
  partitionOfHash(hash: number): number {
    return partitionOfHash(hash, this.owners.length)
  }

  forKey(key: KeyLike): PreferenceEntry & { partition: number } {
    const partition = this.partitionOf(key)
    return { partition, ...this.entry(partition) }
  }
}
