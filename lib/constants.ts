// Every limit in Ringwood has a name here, with its unit last (`...Bytes`, `...Ms`, `...Max`).
// Relations between limits are asserted when this module loads, so a bad edit fails at once
// rather than in production. Per-database options may override some defaults; the option
// validators check them against the hard limits below.

import { assert } from './assert'

const KiB = 1024
const MiB = 1024 * KiB

// ---- Keys and values (the public contract; documented in the README's "Limits") ----
export const keyBytesMax = 64 * KiB
export const valueBytesMax = 16 * MiB
/** The largest number of operations in one atomic batch. */
export const batchOpsMax = 100_000
/** The largest total payload (keys + values) of one atomic batch. */
export const batchBytesMax = 64 * MiB
/** Longest time-to-live accepted, ~100 years; avoids overflow in expiry arithmetic. */
export const ttlMsMax = 100 * 365 * 24 * 3600 * 1000
/** Sequence numbers are JS integers; they must stay exact. */
export const sequenceMax = Number.MAX_SAFE_INTEGER

// ---- Commit log (lib/storage/wal) ----
/** One log record carries one group of writes; a group is cut at this many payload bytes. */
export const logGroupBytesMax = 4 * MiB
/** A single record may be larger than a group (one big batch), but never larger than this. */
export const logRecordBytesMax = batchBytesMax + 1 * MiB
/** In `interval` durability, the log is synced at least this often. */
export const logSyncIntervalMs = 10
/** A log segment is rotated with the memtable, or when it passes this size (the memtable is then flushed too). */
export const logSegmentBytesMax = 256 * MiB

// ---- Memtable ----
export const memtableBytesDefault = 32 * MiB
export const memtableBytesMin = 64 * KiB
export const memtableBytesMax = 1024 * MiB
/** Immutable memtables waiting for flush before writes stall. */
export const immutableMemtablesMax = 2
/**
 * Memory a memtable version costs beyond its key and value bytes (version object, Map slot, latin1
 * key string): measured ~144 bytes with 16-byte keys (perf/wal_memtable.ts, --expose-gc).
 */
export const memtableEntryOverheadBytes = 144

// ---- SSTables (lib/storage/sstable) ----
export const blockBytesDefault = 4 * KiB
/** Entries between restart points in a data block. */
export const blockRestartInterval = 16
export const bloomBitsPerKeyDefault = 10
export const bloomBitsPerKeyMax = 32
/** Target size of one table written by compaction. */
export const tableBytesTarget = 64 * MiB

// ---- Levels and compaction (lib/storage/compaction) ----
export const levelsMax = 7
/** Level 0 files at which compaction of L0 is scheduled. */
export const level0CompactionTrigger = 4
/** Level 0 files at which each write is delayed (write slowdown). */
export const level0SlowdownFiles = 8
/** Level 0 files at which writes wait for compaction (write stall). */
export const level0StopFiles = 12
/** Delay added to each write group during a slowdown. */
export const writeSlowdownMs = 1
/** Total bytes at level 1; each deeper level is `levelSizeMultiplier` times larger. */
export const level1BytesMax = 256 * MiB
export const levelSizeMultiplier = 10
/** A table whose tombstones and expired TTL entries are at least this share of its entries is compacted when no level needs it by size (garbage compaction). */
export const garbageCompactionRatio = 0.5
/** While some table holds tombstones or TTLs, the longest the engine waits before it looks for garbage to compact again (no write waking it). */
export const garbageCheckMsMax = 60 * 60 * 1000
/** How soon the engine looks again at a table with garbage that a snapshot kept it from compacting. */
export const garbageSnapshotRecheckMs = 10_000
/** Compaction I/O throttle, bytes per second written by background work (0 = unthrottled). */
export const compactionBytesPerSecDefault = 256 * MiB
/** Background threads in the compaction pool (piscina). */
export const compactionThreadsMax = 2

// ---- Files ----
/** Data directories one process may hold open at once (the addon's lock table, mmap.c LOCKS_MAX). */
export const lockedDirectoriesMax = 4096
/** A manifest is rewritten from a snapshot once it grows past this. */
export const manifestBytesMax = 64 * MiB

// ---- Runtime: mailboxes, actors, supervisor (lib/runtime; spec in lib/runtime/RUNTIME.md) ----
/** Data bytes of one mailbox ring (one per ordered pair of threads); a power of two. */
export const mailboxRingBytesDefault = 256 * KiB
export const mailboxRingBytesMin = 4 * KiB
export const mailboxRingBytesMax = 64 * MiB
/** The fixed envelope header of every ring record. */
export const envelopeHeaderBytes = 32
/** The largest record in a ring, as a fraction of it: bigger messages are split (§2). */
export const mailboxFragmentDivisor = 4
/** The largest message (payload bytes); above it a send is refused with KV_INVALID_ARGUMENT. */
export const messageBytesMax = 32 * MiB
/** Records taken from one inbound ring in one pass of the receive loop. */
export const batchRecordsMax = 256
/** Passes of the receive loop before it yields to the event loop (setImmediate). */
export const batchPassesMax = 64
/** Time the receive loop keeps polling (yielding via setImmediate) before it parks. */
export const idlePollUsDefault = 200
/** Synchronous spin before parking (blocks the loop); 0 by measurement (perf/README.md). */
export const idleSpinUsDefault = 0
export const idleSpinUsMax = 1000
/** Requests in flight from one endpoint (slots of its request table, 16-bit slot numbers). */
export const requestsInFlightMax = 65536
export const runtimeRequestTimeoutMsDefault = 10_000
export const runtimeRequestTimeoutMsMax = 24 * 3600 * 1000
/** How often pending requests are checked against their deadlines (only while any pend). */
export const deadlineSweepMs = 5
/** A sender's queue to one destination, beyond which new sends get KV_OVERLOADED. */
export const overflowMessagesMax = 100_000
export const overflowBytesMax = 256 * MiB
/** Wait on a parked doorbell while a queue waits for ring space (backs up the wake flag). */
export const overflowRetryMs = 2
/** Supervisor restart backoff for a crashed node. */
export const restartBackoffMsMin = 50
export const restartBackoffMsMax = 5_000
/** A node up this long has its backoff reset. */
export const restartStableMs = 10_000
/** Consecutive failed restarts after which a node stays down. */
export const restartAttemptsMax = 20
/** A node's setup must report ready within this, or the node is restarted. */
export const nodeStartTimeoutMs = 30_000
/** close(): time for in-flight requests to finish, then for workers to exit. */
export const closeDrainMs = 2_000
export const closeTimeoutMs = 2_000
/**
 * Default deadline of a control-plane call to a node (db.admin, the clean stop in close()): a
 * node whose thread is blocked does not answer, and comlink alone would wait for good.
 */
export const controlTimeoutMsDefault = 10_000
/**
 * close(): the clean stop of a node that answered a ping within controlTimeoutMs (it is not
 * blocked) may take this long (a flush or compaction may be finishing) before it is terminated.
 */
export const nodeStopTimeoutMs = 5 * 60_000
/** The supervisor's watchdog pings each node this long after its last answer. */
export const heartbeatIntervalMs = 1_000
/** Default of open()'s nodeHangTimeoutMs: a node that answers no heartbeat for this long is restarted. */
export const nodeHangTimeoutMsDefault = 30_000
/** Endpoints in one runtime: the supervisor plus node workers. */
export const endpointsMax = 64
// Runtime relations, checked at load.
assert(Number.isInteger(Math.log2(mailboxRingBytesDefault)) && Number.isInteger(Math.log2(mailboxRingBytesMin)) && Number.isInteger(Math.log2(mailboxRingBytesMax)), 'ring sizes are powers of two')
assert(mailboxRingBytesMin <= mailboxRingBytesDefault && mailboxRingBytesDefault <= mailboxRingBytesMax && mailboxRingBytesMax <= 2 ** 30, 'ring size within bounds; indices are mod 2^32')
assert(mailboxRingBytesMin / mailboxFragmentDivisor >= 16 * envelopeHeaderBytes, 'a fragment of the smallest ring carries payload')
assert(messageBytesMax >= valueBytesMax + keyBytesMax + 64 * KiB, 'a maximal key and value fit in one message')
assert(messageBytesMax < 2 ** 31, 'message lengths are 32-bit')
assert(requestsInFlightMax <= 65536, 'request slots are 16-bit')
assert(deadlineSweepMs < runtimeRequestTimeoutMsDefault && runtimeRequestTimeoutMsDefault <= runtimeRequestTimeoutMsMax, 'deadlines are swept well within a timeout')
assert(restartBackoffMsMin <= restartBackoffMsMax && restartBackoffMsMax < restartStableMs, 'restart backoff within bounds')
assert(idleSpinUsDefault <= idleSpinUsMax, 'spin within bounds')
assert(endpointsMax <= 65535, 'endpoint ids fit a u16')

// ---- Cluster: ring, quorum, versions, hints (lib/cluster) ----
// Sections named "§n" are in lib/cluster/PROTOCOL.md.
/** Seed of hash32 over key bytes for ring placement (§2.1). Changing it moves every key. */
export const ringHashSeed = 0x52696e67
/** Seed of hash32 over key bytes for the key check inside a causal context (§4.4). */
export const contextKeyHashSeed = 0x43747800
/** Partitions (Q) of a new cluster; always a power of two (§2). */
export const partitionsDefault = 64
export const partitionsMin = 8
export const partitionsMax = 16384
/** Nodes in one cluster (ids are u32; this bounds claim and membership sizes). */
export const nodesMax = 1024
/** A cluster of `max(nodesMinDefault, cores)` nodes unless the caller says otherwise. */
export const nodesMinDefault = 3
/** N, R, W defaults and the largest N. */
export const replicasDefault = 3
export const replicasMax = 8
export const readQuorumDefault = 2
export const writeQuorumDefault = 2
/** Siblings of one key after a client write; repair and handoff paths are not capped (§4.6). */
export const siblingsMax = 32
/** Encoded object (all siblings + version vector) after a client write (§4.6). */
export const objectBytesMax = 32 * MiB
/** Entries in one version vector; a decode guard, not pruning (we never prune, §4.1). */
export const versionVectorEntriesMax = 4096
/** Bytes of a causal context a client may hand back (§4.4). */
export const contextBytesMax = 64 * KiB
/** Default deadline of one client request, and the largest a caller may ask for. */
export const requestTimeoutMsDefault = 5_000
export const requestTimeoutMsMax = 10 * 60_000
/** A replica that has not answered within this is treated as not answering (§5.4). */
export const replicaTimeoutMsDefault = 1_000
/** Consecutive replica timeouts after which a node is suspected, and for how long (§3.3). */
export const suspectAfterTimeouts = 2
export const suspectForMs = 2_000
/** Gets of one key that may share one quorum round in one coordinator (§5.6). */
export const coalescedGetWaitersMax = 1_024
/** Vnode requests to one node that travel as one BATCH message, and its size (§9.7). */
export const replicaBatchItemsMax = 128
export const replicaBatchBytesMax = 64 * KiB
/** A batch answer stops taking items past this; the rest are sent again one by one (§9.7). */
export const replicaBatchReplyBytesMax = 4 * MiB
/**
 * Client gets and sets coordinated at once by one Database, and those that may wait for a
 * slot (lib/db/admission.ts; README "Overload"); beyond, KV_OVERLOADED at once.
 */
export const admissionInFlightDefault = 1_024
export const admissionInFlightMax = 65_536
export const admissionQueuedDefault = 100_000
export const admissionQueuedMax = 10_000_000
/**
 * A coordinator actor stops its quorum round this much before the caller's deadline (at most
 * a tenth of the budget), so that its answer (KV_TIMEOUT with what it knows) arrives in time
 * and the caller does not take a coordinator that did answer for a silent one (§9.3).
 */
export const coordinatorAnswerMarginMs = 100
/** Embedded mode: each node's shared read cache, and the size of its buckets (§9.8). */
export const readCacheBytesDefault = 32 * MiB
/**
 * Embedded mode: nice levels each node's thread runs below the thread that called open()
 * (RUNTIME.md §11). When the cores are busy, the caller's thread, which answers cached reads
 * and drives every request, then runs first; measured +15-20 % on workload B at 1000 in flight.
 */
export const nodeNiceDefault = 10
export const readCacheBytesMax = 1024 * MiB
export const readCacheBucketBytes = 2 * KiB
/**
 * Gets answered from the read caches at once in one event-loop turn; later ones wait for the
 * next turn, so that a caller looping on cached gets still lets replies and timers in.
 */
export const readCacheHitsPerTurnMax = 1024
/**
 * Every this many read-cache answers, the caller also runs the get's full quorum round in the
 * background (answer dropped): it reads every replica and repairs those a cache answer did
 * not read (§9.8), as Cassandra's read-repair chance did.
 */
export const readCacheRepairEvery = 64
/** Hints held by one node, in bytes of hint records, and the oldest hint kept (§6). */
export const hintBytesMax = 256 * MiB
export const hintAgeMsMax = 3 * 3600_000
/** Hint replay throttle: a token bucket in bytes (§6.3), and replays in flight per node. */
export const hintReplayBytesPerSec = 4 * MiB
export const hintReplayBurstBytes = 1 * MiB
export const hintReplayInFlightMax = 4
/** Backoff between replay attempts to an owner that failed, doubling from min to max. */
export const hintRetryBackoffMsMin = 100
export const hintRetryBackoffMsMax = 2_000
/**
 * How long a node keeps a dead object (every sibling deleted or expired) after it died, before
 * its storage drops it, version vector and all (§4.5): Cassandra's gc_grace. At least the hint
 * age (plus a replay's timeout), so that a delete's hints reach their owners first.
 */
export const tombstoneGraceMsDefault = 24 * 3600_000
// Cluster relations (lib/cluster/PROTOCOL.md §8).
for (const q of [partitionsMin, partitionsDefault, partitionsMax]) assert(Number.isInteger(Math.log2(q)), 'partition counts are powers of two')
assert(partitionsMin <= partitionsDefault && partitionsDefault <= partitionsMax, 'partitions default within bounds')
assert(partitionsMin >= replicasMax, 'a ring always has room for N distinct owners')
assert(readQuorumDefault + writeQuorumDefault > replicasDefault, 'default quorums overlap: R + W > N')
assert(readQuorumDefault <= replicasDefault && writeQuorumDefault <= replicasDefault && replicasDefault <= replicasMax, 'R, W <= N <= replicasMax')
assert(nodesMinDefault >= replicasDefault, 'the default cluster holds N distinct replicas')
assert(valueBytesMax + 1 * KiB < objectBytesMax, 'one maximal value fits in an object')
assert(objectBytesMax + keyBytesMax + 1 * KiB < batchBytesMax, 'an object (or a hint record) fits one batch')
assert(objectBytesMax <= hintBytesMax, 'a maximal object can be hinted')
assert(Number.isInteger(Math.log2(readCacheBucketBytes)) && readCacheBytesDefault <= readCacheBytesMax, 'read cache buckets are a power of two in size; default within bounds')
assert(replicaBatchItemsMax >= 1 && replicaBatchBytesMax <= mailboxRingBytesDefault / 2, 'a replica batch fits a default mailbox ring')
assert(replicaBatchReplyBytesMax + 64 * KiB < messageBytesMax, 'a batch answer fits a message')
assert(replicaTimeoutMsDefault < requestTimeoutMsDefault && requestTimeoutMsDefault <= requestTimeoutMsMax, 'timeouts nest')
assert(hintRetryBackoffMsMin <= hintRetryBackoffMsMax && hintReplayBurstBytes <= hintReplayBytesPerSec, 'hint replay limits are ordered')
assert(tombstoneGraceMsDefault >= hintAgeMsMax + requestTimeoutMsMax, 'dead objects outlive the hints that could still deliver their deletes')
assert(siblingsMax >= 1 && versionVectorEntriesMax >= nodesMax, 'a version vector holds an entry per node')

// Relations, checked at load.
assert(keyBytesMax < blockBytesDefault * 64, 'a key must fit in a bounded number of blocks')
assert(valueBytesMax + keyBytesMax < batchBytesMax, 'one maximal entry must fit in a batch')
assert(batchBytesMax < logRecordBytesMax, 'a maximal batch must fit in one log record')
assert(logRecordBytesMax < 2 ** 31, 'record lengths are 32-bit')
assert(memtableBytesMin <= memtableBytesDefault && memtableBytesDefault <= memtableBytesMax, 'memtable default within bounds')
assert(level0CompactionTrigger < level0SlowdownFiles && level0SlowdownFiles < level0StopFiles, 'L0 triggers must increase')
assert(Number.isInteger(Math.log2(blockRestartInterval)), 'restart interval is a power of two')
assert(bloomBitsPerKeyDefault <= bloomBitsPerKeyMax, 'bloom default within bounds')
