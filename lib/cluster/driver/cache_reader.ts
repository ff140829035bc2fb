// The caller's side of the shared read caches (PROTOCOL.md §9.8): finds the object the first
// R primaries of a key hold in their nodes' caches, when they all hold the very same bytes.
// Health is the driver's rule, asked with the monotonic time read once per event-loop turn. The RequestDriver owns one and decides what a hit or miss does.

import type { Clock } from '../../util/clock'
import { TurnClock } from '../../util/clock'
import type { RowCache } from '../cache/row_cache'
import type { PreferenceTable } from '../ring/preference_list'
import { ringHash } from '../ring/partition'

export class CacheReader {
  private readonly turnClock: TurnClock

  constructor(
    /** By node id; undefined where a node has no cache. */
    private readonly caches: readonly (RowCache | undefined)[],
    private readonly healthyAt: (node: number, nowMs: number) => boolean,
    clock: Clock,
  ) {
    this.turnClock = new TurnClock(() => clock.monotonicMs())
  }

  /** The object bytes (a copy) the first R primaries' caches agree on, or undefined. */
  read(table: PreferenceTable, key: Buffer, r: number): Uint8Array | undefined {
    const hash = ringHash(key)
    const { primaries } = table.entry(table.partitionOfHash(hash))
    if (primaries.length < r) return undefined
    const now = this.turnClock.now()
    let bytes: Uint8Array | undefined
    for (let i = 0; i < r; i++) {
      const node = primaries[i]!
      const cache = this.caches[node]
      if (cache === undefined || !cache.enabled || !this.healthyAt(node, now)) return undefined
      if (bytes === undefined) {
        bytes = cache.get(hash, key)
        if (bytes === undefined) return undefined
      } else if (!cache.holdsObject(hash, key, bytes)) return undefined
    }
    return bytes
  }
}
