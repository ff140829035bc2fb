// Which versions a flush or compaction keeps (DESIGN.md, levels and compaction). Pure: fed
// the versions of one key newest first, it answers keep / drop / keep-as-tombstone.
//
// - A version is shadowed, and dropped, once a newer version of the same key at or below the
//   oldest live snapshot has been seen: no reader can ever see it.
// - At the bottom of its key range (no deeper table overlaps), a tombstone that no snapshot
//   needs is dropped, and so is an expired TTL value.
// - Above the bottom, an expired TTL value becomes a tombstone: dropping it could uncover an
//   older value of the key in a deeper level.

import { Kind } from '../types'

export const enum Decision {
  Keep = 0,
  Drop = 1,
  KeepAsTombstone = 2,
}

export class CompactionFilter {
  private shadowed = false
  dropped = 0
  expired = 0

  constructor(
    private readonly smallestSnapshot: number,
    private readonly bottommost: boolean,
    private readonly nowMs: number,
  ) {}

  /** Call before the first version of each key. */
  startKey(): void {
    this.shadowed = false
  }

  decide(seq: number, kind: Kind, expiresAtMs: number): Decision {
    if (this.shadowed) {
      this.dropped++
      return Decision.Drop
    }
    const visibleToAll = seq <= this.smallestSnapshot
    if (visibleToAll) this.shadowed = true
    const expired = kind === Kind.PutTtl && expiresAtMs <= this.nowMs
    if (visibleToAll && (kind === Kind.Del || expired)) {
      if (expired) this.expired++
      if (this.bottommost) {
        this.dropped++
        return Decision.Drop
      }
      return expired ? Decision.KeepAsTombstone : Decision.Keep
    }
    return Decision.Keep
  }
}
