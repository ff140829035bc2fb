// What open() hands every node's setup module (structured-cloned; PROTOCOL.md §9).

import type { Membership } from '../membership/membership'
import type { HintStoreOptions } from './hint_store'

export interface NodeSetupData {
  readonly dir: string
  readonly durability: 'none' | 'interval' | 'sync'
  /** Storage-side policy: a resolver runs in the request driver (PROTOCOL.md §9.5), so nodes keep siblings. */
  readonly conflict: 'siblings' | 'lww'
  readonly membership: Membership
  readonly replicas: number
  /** The database's default R: a node publishes to its read cache the partitions it serves among the first R primaries (§9.8). */
  readonly readQuorum: number
  readonly replicaTimeoutMs: number
  readonly hints: HintStoreOptions
  /** How long a dead object is kept before storage drops it (PROTOCOL.md §4.5). */
  readonly tombstoneGraceMs: number
  /** Each node's shared read cache by node id (§9.8; shared, not copied, by the structured clone); empty when off. */
  readonly readCaches: readonly (SharedArrayBuffer | undefined)[]
}
