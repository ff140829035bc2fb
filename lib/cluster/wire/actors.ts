// Actor ids and message types of the cluster drivers (PROTOCOL.md §9.1-§9.3, §9.7).

/** The coordinator actor, one per node (§9.3). */
export const COORDINATOR_ACTOR = 0x100
/** The vnode batch actor, one per node (§9.7). */
export const VNODE_BATCH_ACTOR = 0x101
/** Vnode actors: VNODE_ACTOR_BASE + partition (§9.1). */
export const VNODE_ACTOR_BASE = 0x10000

export function vnodeActor(partition: number): number {
  return VNODE_ACTOR_BASE + partition
}

/** Vnode message types (§9.2). */
export const VnodeType = { WRITE: 1, REPLICATE: 2, READ: 3, REPAIR: 4, HANDOFF: 5 } as const
/** Coordinator actor message types (§9.3). */
export const CoordinatorType = { PUT: 1, GET: 2 } as const
/** Batch actor message types (§9.7). */
export const BatchType = { BATCH: 1 } as const

export const wireVersion = 1

/** Flags of a client write (§9.2). */
export const WriteFlag = { TOMBSTONE: 1, TTL: 2, CONTEXT: 4 } as const
export const writeFlagsKnown = 7
