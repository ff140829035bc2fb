// The options of open() (README "Cluster API"): the core's cluster options (PROTOCOL.md §7)
// plus the drivers' own (coordination placement, replica timeout, hint caps). Every failure
// is KV_INVALID_ARGUMENT, before any worker starts.

import os from 'node:os'
import { admissionInFlightDefault, admissionInFlightMax, admissionQueuedDefault, admissionQueuedMax, controlTimeoutMsDefault, heartbeatIntervalMs, hintAgeMsMax, nodeHangTimeoutMsDefault, nodeNiceDefault, readCacheBytesDefault, replicaTimeoutMsDefault, requestTimeoutMsMax, tombstoneGraceMsDefault, ttlMsMax } from '../constants'
import { invalidArgument } from '../errors'
import { checkNodeNice } from '../runtime/thread'
import { checkReadCacheBytes, resolveClusterOptions, type ClusterOptions, type ResolvedClusterOptions } from '../cluster'
import { integerIn } from '../cluster/options/check'

export type Coordination = 'client' | 'actor'

export interface HintOptions {
  /** Bytes of hint records one node holds (default hintBytesMax). */
  bytesMax?: number
  /** Oldest hint kept, ms (default hintAgeMsMax). */
  ageMsMax?: number
  /** Replay throttle, bytes per second (default hintReplayBytesPerSec). */
  replayBytesPerSec?: number
}

export interface OpenOptions extends ClusterOptions {
  /** Where the quorum logic runs: on the caller's thread ('client', the default) or in a coordinator actor on a replica ('actor'). */
  coordination?: Coordination
  /** A replica that has not answered within this is treated as not answering (default 1000). */
  replicaTimeoutMs?: number
  hints?: HintOptions
  /** Bytes of each node's shared read cache (PROTOCOL.md §9.8; default 32 MiB, 0 = off). Client coordination only. */
  readCacheBytes?: number
  /**
   * Nice levels the node threads run below the thread that calls open() (RUNTIME.md §11;
   * Linux only, elsewhere ignored): 0 to 19, default 10, 0 = the same priority.
   */
  nodeNice?: number
  /**
   * How long a node keeps a deleted or expired key's tombstone before its storage drops it
   * (PROTOCOL.md §4.5; default 24 h, or the minimum if that is more): at least
   * `hints.ageMsMax` + `replicaTimeoutMs`.
   */
  tombstoneGraceMs?: number
  /** Deadline of a control-plane call to a node: db.admin's calls, the clean stop in close() (default 10000). */
  controlTimeoutMs?: number
  /** A node whose thread answers no heartbeat for this long is terminated and restarted, as after a crash (default 30000; 0 = never). */
  nodeHangTimeoutMs?: number
  /** Gets and sets coordinated at once; more wait (README "Overload"; default 1024). Read-cache answers are not counted. */
  maxInFlight?: number
  /** Gets and sets that may wait for a slot; beyond, KV_OVERLOADED at once (default 100000; 0 = fail fast). */
  maxQueued?: number
}

export interface ResolvedOpenOptions extends ResolvedClusterOptions {
  readonly coordination: Coordination
  readonly replicaTimeoutMs: number
  readonly hints: HintOptions
  /** 0 when off (or under actor coordination, which does not read caches). */
  readonly readCacheBytes: number
  readonly nodeNice: number
  readonly tombstoneGraceMs: number
  readonly controlTimeoutMs: number
  readonly nodeHangTimeoutMs: number
  readonly maxInFlight: number
  readonly maxQueued: number
}

const extra = ['coordination', 'replicaTimeoutMs', 'hints', 'readCacheBytes', 'nodeNice', 'tombstoneGraceMs', 'controlTimeoutMs', 'nodeHangTimeoutMs', 'maxInFlight', 'maxQueued']

function positiveInt(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw invalidArgument(`${name} must be a positive integer`, { [name]: v })
  return v
}

export function resolveOpenOptions(input: unknown): ResolvedOpenOptions {
  const base = resolveClusterOptions(input, os.availableParallelism(), extra)
  const o = input as Record<string, unknown>
  const coordination = o['coordination'] ?? 'client'
  if (coordination !== 'client' && coordination !== 'actor') throw invalidArgument(`coordination must be 'client' or 'actor'`)
  const replicaTimeoutMs = positiveInt(o['replicaTimeoutMs'], 'replicaTimeoutMs') ?? Math.min(replicaTimeoutMsDefault, base.timeoutMs)
  if (replicaTimeoutMs > requestTimeoutMsMax) throw invalidArgument(`replicaTimeoutMs must be at most ${requestTimeoutMsMax}`)
  const h = o['hints'] ?? {}
  if (typeof h !== 'object' || h === null || Array.isArray(h)) throw invalidArgument('hints must be an object')
  for (const k of Object.keys(h)) if (!['bytesMax', 'ageMsMax', 'replayBytesPerSec'].includes(k)) throw invalidArgument(`unknown hints option '${k}'`, { option: k })
  const hr = h as Record<string, unknown>
  const hints: HintOptions = {}
  const bytesMax = positiveInt(hr['bytesMax'], 'hints.bytesMax')
  const ageMsMax = positiveInt(hr['ageMsMax'], 'hints.ageMsMax')
  const replayBytesPerSec = positiveInt(hr['replayBytesPerSec'], 'hints.replayBytesPerSec')
  if (bytesMax !== undefined) hints.bytesMax = bytesMax
  if (ageMsMax !== undefined) hints.ageMsMax = ageMsMax
  if (replayBytesPerSec !== undefined) hints.replayBytesPerSec = replayBytesPerSec
  const rc = checkReadCacheBytes(o['readCacheBytes'] ?? readCacheBytesDefault)
  const nodeNice = checkNodeNice(o['nodeNice'] ?? nodeNiceDefault)
  // A hint is replayed until it is ageMsMax old, and a replay may take replicaTimeoutMs to land.
  const graceMin = (hints.ageMsMax ?? hintAgeMsMax) + replicaTimeoutMs
  const tombstoneGraceMs = positiveInt(o['tombstoneGraceMs'], 'tombstoneGraceMs') ?? Math.max(tombstoneGraceMsDefault, graceMin)
  if (tombstoneGraceMs > ttlMsMax) throw invalidArgument(`tombstoneGraceMs must be at most ${ttlMsMax}`, { tombstoneGraceMs })
  if (tombstoneGraceMs < graceMin) {
    throw invalidArgument(
      `tombstoneGraceMs (${tombstoneGraceMs}) must be at least hints.ageMsMax + replicaTimeoutMs (${graceMin}): a tombstone dropped while a hint of its key may still be replayed could let the deleted value come back`,
      { tombstoneGraceMs, minimum: graceMin },
    )
  }
  const controlTimeoutMs = integerIn(o['controlTimeoutMs'] ?? controlTimeoutMsDefault, 1, requestTimeoutMsMax, 'controlTimeoutMs')
  const hang = o['nodeHangTimeoutMs'] ?? nodeHangTimeoutMsDefault
  const nodeHangTimeoutMs = hang === 0 ? 0 : positiveInt(hang, 'nodeHangTimeoutMs')!
  if (nodeHangTimeoutMs !== 0 && (nodeHangTimeoutMs < heartbeatIntervalMs || nodeHangTimeoutMs > requestTimeoutMsMax)) {
    throw invalidArgument(`nodeHangTimeoutMs must be 0 (no watchdog) or in [${heartbeatIntervalMs}, ${requestTimeoutMsMax}]`, { nodeHangTimeoutMs })
  }
  const maxInFlight = integerIn(o['maxInFlight'] ?? admissionInFlightDefault, 1, admissionInFlightMax, 'maxInFlight')
  const maxQueued = integerIn(o['maxQueued'] ?? admissionQueuedDefault, 0, admissionQueuedMax, 'maxQueued')
  return { ...base, coordination, replicaTimeoutMs, hints, readCacheBytes: coordination === 'client' ? rc : 0, nodeNice, tombstoneGraceMs, controlTimeoutMs, nodeHangTimeoutMs, maxInFlight, maxQueued }
}
