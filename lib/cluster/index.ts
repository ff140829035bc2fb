// lib/cluster: the pure protocol core of the replicated cluster (PROTOCOL.md beside this
// file). Code outside lib/cluster imports only this file. Drivers (vnode actors, the
// coordinator actor, open()) build on these modules; nothing here does I/O.

// Ring (§2)
export { partitionOfKey, partitionOfHash, ringHash, partitionStartHash, isValidPartitionCount } from './ring/partition'
export { claim, claimTargets, movedPartitions } from './ring/claim'
export { interleavedOrder, type PlacedNode } from './ring/labels'
export { walkOwners, choosePrimaries, preferenceEntry, PreferenceTable, type PreferenceEntry } from './ring/preference_list'
export { selectTargets, chooseCoordinator, coordinatorFirst, type Target, type TargetSelection } from './ring/sloppy_targets'

// Membership (§3)
export {
  createMembership,
  addNode,
  markLeaving,
  markMember,
  removeNode,
  newerMembership,
  parseMembership,
  claimingNodes,
  ownershipCounts,
  type Membership,
  type NodeInfo,
  type NodeStatus,
} from './membership/membership'
export { SuspicionTable, type FailureDetector } from './membership/suspicion'

// Versions (§4)
export { compareDots, covers, mergeVv, descends, type Dot, type VersionVector } from './versioning/version_vector'
export {
  sync,
  update,
  discard,
  join,
  contextAfterWrite,
  contextCovers,
  objectsEquivalent,
  liveSiblings,
  isLive,
  checkObject,
  emptyContext,
  emptyObject,
  type Context,
  type DvvObject,
  type Sibling,
  type NewSibling,
} from './versioning/dvv_object'
export { encodeObject, decodeObject, encodedObjectLength, objectFormatVersion, scanSingleSibling, type SingleSibling } from './versioning/object_codec'
export { encodeContext, decodeContext, contextToBase64, contextFormatVersion } from './versioning/causal_context'
export {
  applyClientWrite,
  mergeObjects,
  readResult,
  lastWriteWins,
  keepSiblings,
  type ConflictPolicy,
  type Resolver,
  type ClientWrite,
  type ReadResult,
} from './versioning/conflict_policy'
export { checkClientCaps } from './versioning/client_caps'

// Coordinators (§5)
export { resolveLevel, majority, checkReplicas, checkQuorum, quorumsOverlap, levelNames, type LevelName } from './coordinator/levels'
export { quorumOutcome, type QuorumOutcome } from './coordinator/quorum_tally'
export { PutMachine, type PutParams, type PutEffect } from './coordinator/put_machine'
export { GetMachine, type GetParams, type GetEffect } from './coordinator/get_machine'
export { mergeAnswers, staleReplicas } from './coordinator/read_repair'
export { GetCoalescer, getGroupKey, type CoalescedGroup } from './coordinator/get_coalescer'
export type { ReplicaMessage, PutResult, GetResult, CoordinatorEffect, CoordinatorInput, ReplicaReply } from './coordinator/messages'

// Hints (§6)
export { encodeHint, decodeHint, hintFormatVersion, type HintRecord } from './hints/hint_record'
export { HintLedger, type HintMeta, type HintAdmission } from './hints/hint_ledger'
export { HintReplayer, type ReplayInput, type ReplayEffect, type ReplayOptions } from './hints/hint_replayer'
export { TokenBucket } from './hints/token_bucket'

// Options (§7)
export { resolveClusterOptions, type ClusterOptions, type ResolvedClusterOptions, type ClusterDurability } from './options/cluster_options'
export { checkSetRequest, checkDeleteRequest, checkGetRequest, checkKey, checkValue, type SetRequest, type GetRequest, type RequestDefaults } from './options/request_options'

// Drivers (§9): wire formats, the request driver shared by the caller's thread and the
// coordinator actor. The node setup module is loaded by path (node/setup_node.ts).
export { COORDINATOR_ACTOR, VNODE_ACTOR_BASE, vnodeActor, VnodeType, CoordinatorType } from './wire/actors'
export { payloadCopy, payloadView } from './wire/payload'
export { encodeWrite, decodeWrite, encodeKeyed, decodeKeyed, encodeObjectReply, decodeObjectReply, encodeGet, decodeGet, type WireWrite } from './wire/replica_wire'
export { RequestDriver, type DriverOptions, type DriverStats, type PutCallback, type GetCallback, type MergedFromCaches } from './driver/request_driver'
export type { NodeStats } from './node/cluster_node'
export type { NodeSetupData } from './node/node_setup_data'
export { nodeDir, replicaIdOf } from './node/node_identity'
export const nodeSetupModule = `${__dirname}/node/setup_node.js`
export { RowCache, createReadCache, checkReadCacheBytes, readCacheEntryBytesMax } from './cache/row_cache'
