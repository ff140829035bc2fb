// The caller's side of the shared read caches (PROTOCOL.md §9.8): finds the object the first
// R primaries of a key hold in their nodes' caches, when they all hold the very same bytes, or
// each primary's object when they all hold the key but differ (the driver merges those).
// Health is the driver's rule, asked with the monotonic time read once per event-loop turn.
// The RequestDriver owns one and decides what a hit or miss does.

import type { Clock } from '../../util/clock'
import { TurnClock } from '../../util/clock'
import type { RowCache } from '../cache/row_cache'
import type { PreferenceTable } from '../ring/preference_list'
import { ringHash } from '../ring/partition'

/** The first R primaries' objects for a key, when every cache held it but not the same bytes. */
export interface DifferingObjects {
  readonly partition: number
  readonly nodes: readonly number[]
  /** Copies, by position in `nodes`. */
  readonly objects: readonly Uint8Array[]
}

export class CacheReader {
  private readonly turnClock: TurnClock
  /** After read() returned undefined: set when the caches held the key with differing objects. */
  differing: DifferingObjects | undefined
  /** What prefetch() loaded: meaningless, kept so that the JIT keeps the loads. */
  prefetched = 0

  constructor(
    /** By node id; undefined where a node has no cache. */
    private readonly caches: readonly (RowCache | undefined)[],
    private readonly healthyAt: (node: number, nowMs: number) => boolean,
    clock: Clock,
  ) {
    this.turnClock = new TurnClock(() => clock.monotonicMs())
  }

  /**
   * The object bytes (a copy) the first R primaries' caches agree on, or undefined; then
   * `differing` holds their objects if each of them held the key (§9.8). `key` is not kept.
   */
  read(table: PreferenceTable, key: Buffer, r: number): Uint8Array | undefined {
    this.differing = undefined
    const hash = ringHash(key)
    const partition = table.partitionOfHash(hash)
    const { primaries } = table.entry(partition)
    if (primaries.length < r) return undefined
    const now = this.turnClock.now()
    if (r > 1) this.prefetch(primaries, r, hash)
    let bytes: Uint8Array | undefined
    for (let i = 0; i < r; i++) {
      const cache = this.readable(primaries[i]!, now)
      if (cache === undefined) return undefined
      if (bytes === undefined) {
        bytes = cache.get(hash, key)
        if (bytes === undefined) return undefined
      } else if (!cache.holdsObject(hash, key, bytes)) {
        this.differing = this.readEach(hash, key, partition, primaries.slice(0, r), now)
        return undefined
      }
    }
    return bytes
  }

  /**
   * Starts loading the R buckets, then the R entries, before any lookup: the caches are far
   * larger than the CPU's, so each lookup waits on memory twice (the bucket's index, then the
   * entry it names), and R lookups one after another wait 2R times. Loaded together, the R
   * caches' misses overlap (§9.8).
   */
  private prefetch(primaries: readonly number[], r: number, hash: number): void {
    let sink = 0
    for (let i = 0; i < r; i++) sink ^= this.caches[primaries[i]!]?.prefetchBucket(hash) ?? 0
    for (let i = 0; i < r; i++) sink ^= this.caches[primaries[i]!]?.prefetchEntry(hash) ?? 0
    this.prefetched = sink
  }

  /** A node's cache if it may be read now: it has one, it is enabled, the node is healthy. */
  private readable(node: number, now: number): RowCache | undefined {
    const cache = this.caches[node]
    return cache === undefined || !cache.enabled || !this.healthyAt(node, now) ? undefined : cache
  }

  /** Each node's object for the key, or undefined if one is not readable or lacks the key. */
  private readEach(hash: number, key: Buffer, partition: number, nodes: readonly number[], now: number): DifferingObjects | undefined {
    const objects: Uint8Array[] = []
    for (const node of nodes) {
      const got = this.readable(node, now)?.get(hash, key)
      if (got === undefined) return undefined
      objects.push(got)
    }
    return { partition, nodes, objects }
  }
}
