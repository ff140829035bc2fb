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
/** A log segment is rotated with the memtable; this bounds a segment for huge memtables. */
export const logSegmentBytesMax = 256 * MiB

// ---- Memtable ----
export const memtableBytesDefault = 32 * MiB
export const memtableBytesMin = 64 * KiB
export const memtableBytesMax = 1024 * MiB
/** Immutable memtables waiting for flush before writes stall. */
export const immutableMemtablesMax = 2

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
/** Compaction I/O throttle, bytes per second written by background work (0 = unthrottled). */
export const compactionBytesPerSecDefault = 256 * MiB
/** Background threads in the compaction pool (piscina). */
export const compactionThreadsMax = 2

// ---- Files ----
/** A manifest is rewritten from a snapshot once it grows past this. */
export const manifestBytesMax = 64 * MiB

// ---- Runtime: mailboxes, actors, supervisor (lib/runtime) ----
// (runtime limits go here)

// ---- Cluster: ring, quorum, versions, hints (lib/cluster) ----
// (cluster limits go here)

// Relations, checked at load.
assert(keyBytesMax < blockBytesDefault * 64, 'a key must fit in a bounded number of blocks')
assert(valueBytesMax + keyBytesMax < batchBytesMax, 'one maximal entry must fit in a batch')
assert(batchBytesMax < logRecordBytesMax, 'a maximal batch must fit in one log record')
assert(logRecordBytesMax < 2 ** 31, 'record lengths are 32-bit')
assert(memtableBytesMin <= memtableBytesDefault && memtableBytesDefault <= memtableBytesMax, 'memtable default within bounds')
assert(level0CompactionTrigger < level0SlowdownFiles && level0SlowdownFiles < level0StopFiles, 'L0 triggers must increase')
assert(Number.isInteger(Math.log2(blockRestartInterval)), 'restart interval is a power of two')
assert(bloomBitsPerKeyDefault <= bloomBitsPerKeyMax, 'bloom default within bounds')
