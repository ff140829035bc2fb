// The vnodes' storage on one node (PROTOCOL.md §9.2, §9.4): objects by (partition, key) in the
// node's engine. Client writes run applyClientWrite with the node's replica id; replicas,
// repair and handoff merge uncapped. Reads answer stored bytes without decoding.
//
// Invariant: a read sees every write this node has started, even while the engine holds a
// write back (a write stall): a read answers the newest object on its way to the engine
// (InFlightWrites) before the engine's, so two writes of one key never read the same base (a
// dot is never reused), also when a write fails while an earlier one is still on its way.
// The shared read cache (§9.8), when given, holds for a key either nothing or exactly what a
// read would answer: every store updates it synchronously, a failed store empties it, and a
// read publishes what it found only while no write of the key is in flight. Only the
// partitions `cachedPartitions` marks are published (those this node serves among the first R
// primaries: the caller reads no other cache). The invariant makes the cache this node's
// first place to read a key of those partitions, before the engine (§9.8).
//
// Dead objects (every sibling a tombstone or expiring, §4.5) are stored as engine TTL entries
// that disappear `tombstoneGraceMs` after the object died, version vector and all. So that no
// dot is reused once they are gone, client writes take counters above `counterFloor`: the
// highest counter of this node's replica id in any object it stored to be dropped.

import type { Engine } from '../../storage'
import { applyClientWrite, mergeObjects, type ConflictPolicy } from '../versioning/conflict_policy'
import { deadAtMs, type DvvObject } from '../versioning/dvv_object'
import { counterOf } from '../versioning/version_vector'
import { tombstoneGraceMsDefault } from '../../constants'
import { decodeObject, encodeObject } from '../versioning/object_codec'
import { decodeContext, encodeContext } from '../versioning/causal_context'
import type { Clock } from '../../util/clock'
import type { WireWrite } from '../wire/replica_wire'
import type { RowCache } from '../cache/row_cache'
import { ringHash } from '../ring/partition'
import { dataKey } from './storage_keys'
import { counterFloorOp } from './node_identity'
import { InFlightWrites } from './in_flight_writes'

export interface VnodeCounters {
  writes: number
  replicas: number
  reads: number
  repairs: number
  handoffs: number
}

export interface VnodeStoreOptions {
  /** The shared read cache (§9.8) to publish in. */
  readonly cache?: RowCache | undefined
  /** By partition: 1 where this node publishes to the cache (default: every partition). */
  readonly cachedPartitions?: Uint8Array | undefined
  /** How long a dead object is kept after it died (§4.5; default tombstoneGraceMsDefault). */
  readonly tombstoneGraceMs?: number | undefined
  /** The floor this replica id's counters start above (§4.5; as openNode read it). */
  readonly counterFloor?: number | undefined
  /** Save the floor with each store that raises it (durability sync, §9.4). */
  readonly saveFloorWithStores?: boolean | undefined
}

export class VnodeStore {
  /** By latin1 of the storage key. */
  private readonly inFlight = new InFlightWrites()
  readonly counters: VnodeCounters = { writes: 0, replicas: 0, reads: 0, repairs: 0, handoffs: 0 }
  /** The last readStored() answered from the read cache. */
  private lastFromCache = false

  private readonly cache: RowCache | undefined
  private readonly cachedPartitions: Uint8Array | undefined
  private readonly graceMs: number
  /** Client writes of this replica take counters above this (§4.5). */
  private floor: number
  /** The floor as last saved with a store (durability sync). */
  private savedFloor: number
  private readonly saveFloorWithStores: boolean

  constructor(
    private readonly engine: Engine,
    private readonly policy: ConflictPolicy,
    readonly replicaId: number,
    private readonly clock: Clock,
    o: VnodeStoreOptions = {},
  ) {
    this.cache = o.cache
    this.cachedPartitions = o.cachedPartitions
    this.graceMs = o.tombstoneGraceMs ?? tombstoneGraceMsDefault
    this.floor = this.savedFloor = o.counterFloor ?? 0
    this.saveFloorWithStores = o.saveFloorWithStores ?? false
  }

  /** Client writes of this replica take counters above this (§4.5). */
  get counterFloor(): number {
    return this.floor
  }

  /** The cache to publish objects of `partition` in, if any. */
  private cacheFor(partition: number): RowCache | undefined {
    return this.cachedPartitions === undefined || this.cachedPartitions[partition] === 1 ? this.cache : undefined
  }

  /**
   * What a read of the key answers: a write on its way to the engine, else the read cache's
   * entry, else the engine's object. Sets `lastFromCache`.
   */
  private readStored(partition: number, key: Uint8Array, skey: Buffer): Buffer | undefined {
    this.lastFromCache = false
    if (this.inFlight.size > 0) {
      const pending = this.inFlight.newest(skey.toString('latin1'))
      if (pending !== undefined) return pending
    }
    const cache = this.cacheFor(partition)
    if (cache !== undefined) {
      const cached = cache.getOwn(ringHash(key), key)
      if (cached !== undefined) {
        this.lastFromCache = true
        return cached
      }
    }
    return this.engine.getSync(skey)
  }

  /**
   * When storage drops `object` (§4.5: `tombstoneGraceMs` after it died), or 0: never; for an
   * object that will be dropped, raises the counter floor to this replica's counter in it.
   */
  private raiseFloorForDrop(object: DvvObject): number {
    const deadAt = deadAtMs(object)
    if (deadAt === 0) return 0
    this.floor = Math.max(this.floor, counterOf(object.vv, this.replicaId))
    return deadAt + this.graceMs
  }

  /** An object that storage drops at `dropAt` (0: never) is already gone: it reads as nothing. */
  private pastDrop(dropAt: number): boolean {
    return dropAt !== 0 && dropAt <= this.clock.nowMs()
  }

  /**
   * Stores `bytes`, the encoding of an object that storage drops at `dropAt` (0: never) as a
   * TTL entry (§4.5). One already past that time reads as nothing: it is stored only to
   * shadow what the engine held, and taken out of the read cache.
   */
  private store(partition: number, skey: Buffer, key: Uint8Array, bytes: Buffer, dropAt: number): Promise<void> {
    const k = skey.toString('latin1')
    this.inFlight.add(k, bytes)
    const cache = this.cacheFor(partition)
    const hash = cache === undefined ? 0 : ringHash(key)
    if (this.pastDrop(dropAt)) cache?.remove(hash, key)
    else cache?.put(hash, key, bytes)
    // At durability sync a raised floor is saved with the next store, so that a crash keeps
    // the incarnation (§9.4).
    const floor = this.saveFloorWithStores && this.floor > this.savedFloor ? this.floor : 0
    const settled = (): void => {
      this.inFlight.settle(k, bytes)
      if (floor > this.savedFloor) this.savedFloor = floor
    }
    const failed = (err: unknown): never => {
      this.inFlight.settle(k, bytes)
      // Whatever the cache holds for the key may now be ahead of the engine: forget it.
      cache?.remove(hash, key)
      throw err
    }
    let put: Promise<void>
    try {
      const ttl = dropAt === 0 ? undefined : { expiresAtMs: dropAt }
      put = floor === 0 ? this.engine.put(skey, bytes, ttl) : this.engine.batch([{ type: 'put', key: skey, value: bytes, ...ttl }, counterFloorOp(floor)])
    } catch (err) {
      // (Thrown, not rejected: a failure to start a new log segment.)
      return Promise.reject(err).catch(failed)
    }
    return put.then(settled, failed)
  }

  /**
   * The object bytes stored for the key, or undefined; unlike read(), not counted nor
   * published. May be an in-flight write's own Buffer: never modify it.
   */
  stored(partition: number, key: Uint8Array): Buffer | undefined {
    return this.readStored(partition, key, dataKey(partition, key))
  }

  /** The stored object bytes (§4.2), or undefined. Publishes what it found in the read cache. */
  read(partition: number, key: Uint8Array): Buffer | undefined {
    this.counters.reads++
    const skey = dataKey(partition, key)
    const bytes = this.readStored(partition, key, skey)
    const cache = this.cacheFor(partition)
    if (bytes !== undefined && cache !== undefined && !this.lastFromCache && (this.inFlight.size === 0 || !this.inFlight.has(skey.toString('latin1')))) {
      cache.put(ringHash(key), key, bytes)
    }
    return bytes
  }

  /**
   * A client write at this replica (§9.2 WRITE). Throws KV_TOO_MANY_SIBLINGS (caps) or
   * KV_INVALID_ARGUMENT (bad context) before anything is stored. `stored`: the key's object
   * as stored() returned it just before, synchronously (null: none); undefined: read it here.
   */
  async write(partition: number, w: WireWrite, stored?: Buffer | null): Promise<{ object: Buffer; context: Buffer }> {
    this.counters.writes++
    const skey = dataKey(partition, w.key)
    const raw = stored === undefined ? this.readStored(partition, w.key, skey) : stored ?? undefined
    const current = raw === undefined ? undefined : decodeObject(raw)
    const context = w.context === undefined ? undefined : decodeContext(w.key, w.context)
    const r = applyClientWrite(current, { value: w.value, context, ttlMs: w.ttlMs, timestampMs: this.clock.nowMs(), counterFloor: this.floor }, this.replicaId, this.policy)
    const object = encodeObject(r.object)
    await this.store(partition, skey, w.key, object, this.raiseFloorForDrop(r.object))
    return { object, context: encodeContext(w.key, r.context) }
  }

  /** Replica merge, uncapped (REPLICATE, REPAIR, HANDOFF). */
  async merge(partition: number, key: Uint8Array, objectBytes: Buffer, why: 'replica' | 'repair' | 'handoff'): Promise<void> {
    if (why === 'replica') this.counters.replicas++
    else if (why === 'repair') this.counters.repairs++
    else this.counters.handoffs++
    const skey = dataKey(partition, key)
    const raw = this.readStored(partition, key, skey)
    if (raw !== undefined && raw.equals(objectBytes)) return
    const incoming = decodeObject(objectBytes)
    const merged = raw === undefined ? incoming : mergeObjects(decodeObject(raw), incoming, this.policy)!
    const dropAt = this.raiseFloorForDrop(merged)
    // Nothing stored and an object past its drop: it would read as nothing too.
    if (raw === undefined && this.pastDrop(dropAt)) return
    const bytes = raw === undefined ? Buffer.from(objectBytes) : encodeObject(merged)
    if (raw !== undefined && bytes.equals(raw)) return
    await this.store(partition, skey, key, bytes, dropAt)
  }
}
