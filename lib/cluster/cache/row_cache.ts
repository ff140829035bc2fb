// The shared read cache of one node (PROTOCOL.md §9.8): a set-associative table of fixed-size
// slots in a SharedArrayBuffer, written by its node only and read by the caller's thread. Each
// slot is a seqlock: the writer makes `seq` odd, writes, makes it even; a reader that sees an
// odd `seq`, or a different `seq` after copying, counts a miss. A torn read is therefore never
// returned, and a miss is always safe (the caller then asks the node). The writer opens a
// slot with an atomic exchange and closes it with Atomics.store; the reader confirms with a
// compareExchange. On x86-64 that orders every plain access of the slot; where the CPU may
// reorder plain accesses around atomics, readers also verify a checksum of the object that
// the writer stores in the slot (`verifyReads`). A writer that died with a slot open left
// `seq` odd: the next write or clear keeps the parity right (`seq | 1`, then one more).
// Eviction is CLOCK
// within a set: a hit sets the slot's `ref` word (the only word a reader writes, and a benign
// race), and the writer passes over referenced ways once, clearing them, before it evicts.

import { assert } from '../../assert'
import { readCacheBytesMax, readCacheSlotBytes } from '../../constants'
import { invalidArgument } from '../../errors'
import { hash32 } from '../../util/hash'

const headerBytes = 64
const ways = 4
/** seq u32, hash u32, ref u32, check u32, keyLength u16, objectLength u16. */
const slotHeaderBytes = 20
const keyLengthAt = 16
const objectLengthAt = 18
/** Seed of the object checksum (hash32 of the object, seeded with the key's hash). */
const checkSeed = 0x52634368
/**
 * Readers verify the checksum where plain loads may be reordered around the seqlock's
 * atomics (every CPU but x86-64's total store order), or when RINGWOOD_CACHE_VERIFY=1.
 */
export const verifyReads = process.arch !== 'x64' || process.env['RINGWOOD_CACHE_VERIFY'] === '1'

function objectCheck(hash: number, object: Uint8Array): number {
  return hash32(object, (hash ^ checkSeed) >>> 0) | 0
}
const slotWords = readCacheSlotBytes >> 2
const payloadMax = readCacheSlotBytes - slotHeaderBytes

/** KV_INVALID_ARGUMENT unless `bytes` is 0 (no cache) or a cache size createReadCache takes. */
export function checkReadCacheBytes(bytes: unknown): number {
  if (bytes === 0) return 0
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < headerBytes + ways * readCacheSlotBytes || bytes > readCacheBytesMax) {
    throw invalidArgument(`readCacheBytes must be 0 or an integer in [${headerBytes + ways * readCacheSlotBytes}, ${readCacheBytesMax}]`, { readCacheBytes: String(bytes) })
  }
  return bytes
}

/** A cache buffer of at most `bytes` (slot count a power of two, at least one set). */
export function createReadCache(bytes: number): SharedArrayBuffer {
  if (checkReadCacheBytes(bytes) === 0) throw invalidArgument('a read cache needs bytes')
  const slots = 2 ** Math.floor(Math.log2((bytes - headerBytes) / readCacheSlotBytes))
  return new SharedArrayBuffer(headerBytes + slots * readCacheSlotBytes)
}

export class RowCache {
  private readonly i32: Int32Array
  private readonly u16: Uint16Array
  private readonly u8: Uint8Array
  private readonly setMask: number
  /** Writer: the next way evicted when a set is full. */
  private victim = 0
  /** Reader: the `seq` the last probe saw. */
  private probedSeq = 0

  /** `verify`: readers check each object's checksum (default: `verifyReads`). */
  constructor(
    readonly buffer: SharedArrayBuffer,
    private readonly verify = verifyReads,
  ) {
    const slots = (buffer.byteLength - headerBytes) / readCacheSlotBytes
    assert(Number.isInteger(Math.log2(slots)) && slots >= ways, 'a read cache has a power-of-two number of slots, at least one set')
    this.i32 = new Int32Array(buffer)
    this.u16 = new Uint16Array(buffer)
    this.u8 = new Uint8Array(buffer)
    this.setMask = slots / ways - 1
  }

  get enabled(): boolean {
    return Atomics.load(this.i32, 0) === 1
  }

  setEnabled(on: boolean): void {
    Atomics.store(this.i32, 0, on ? 1 : 0)
  }

  get slots(): number {
    return (this.setMask + 1) * ways
  }

  private base(hash: number, way: number): number {
    return headerBytes + ((((hash & this.setMask) * ways) + way) * readCacheSlotBytes)
  }

  private holds(base: number, hash: number, key: Uint8Array): boolean {
    const w = base >> 2
    if (this.i32[w + 1] !== (hash | 0) || this.u16[(base + keyLengthAt) >> 1] !== key.length) return false
    const u8 = this.u8
    const at = base + slotHeaderBytes
    for (let i = 0; i < key.length; i++) if (u8[at + i] !== key[i]) return false
    return true
  }

  // ---- reader (the caller's thread) ----

  /**
   * The reader's first look: the slot of `key` whose `seq` was even when read (left in
   * `probedSeq`), or -1. The caller reads the object, then confirms with `confirmed`.
   */
  private probe(hash: number, key: Uint8Array): number {
    for (let way = 0; way < ways; way++) {
      const base = this.base(hash, way)
      const seq = Atomics.load(this.i32, base >> 2)
      if ((seq & 1) === 0 && this.holds(base, hash, key)) {
        this.probedSeq = seq
        return base
      }
    }
    return -1
  }

  /** The object read from `base` was stable (and, when verifying, intact): mark the slot referenced. */
  private confirmed(base: number, hash: number, object: Uint8Array): boolean {
    const w = base >> 2
    if (!this.unchanged(w, this.probedSeq)) return false
    if (this.verify && this.i32[w + 3] !== objectCheck(hash, object)) return false
    this.i32[w + 2] = 1
    return true
  }

  /** A copy of the object cached for `key` (hash = its ring hash), or undefined. */
  get(hash: number, key: Uint8Array): Buffer | undefined {
    const base = this.probe(hash, key)
    if (base < 0) return undefined
    const length = this.u16[(base + objectLengthAt) >> 1]!
    if (key.length + length > payloadMax) return undefined // torn lengths; seq will differ
    const at = base + slotHeaderBytes + key.length
    // (TypedArray#slice costs ~5x this here.)
    const out = Buffer.allocUnsafe(length)
    out.set(this.u8.subarray(at, at + length))
    return this.confirmed(base, hash, out) ? out : undefined
  }

  /** True when the cache holds exactly `object` for `key` (compared in place, nothing copied). */
  holdsObject(hash: number, key: Uint8Array, object: Uint8Array): boolean {
    const base = this.probe(hash, key)
    if (base < 0 || this.u16[(base + objectLengthAt) >> 1] !== object.length) return false
    const u8 = this.u8
    const at = base + slotHeaderBytes + key.length
    for (let i = 0; i < object.length; i++) if (u8[at + i] !== object[i]) return false
    return this.confirmed(base, hash, object)
  }

  /** The reader's second look at `seq`: an RMW that leaves it as it is, so that no read of the slot is satisfied after it. */
  private unchanged(w: number, seq: number): boolean {
    return Atomics.compareExchange(this.i32, w, seq, seq) === seq
  }

  // ---- writer (the node) ----

  /** Opens slot word `w` for writing (seq odd); returns the value that closes it. */
  private open(w: number): number {
    const odd = this.i32[w]! | 1
    Atomics.exchange(this.i32, w, odd)
    return (odd + 1) | 0
  }

  /** Caches `object` for `key`; an object too large for a slot empties the key's entry instead. */
  put(hash: number, key: Uint8Array, object: Uint8Array): void {
    if (key.length + object.length > payloadMax) return this.remove(hash, key)
    let base = -1
    let empty = -1
    for (let way = 0; way < ways && base < 0; way++) {
      const b = this.base(hash, way)
      if (this.holds(b, hash, key)) base = b
      else if (empty < 0 && this.u16[(b + keyLengthAt) >> 1] === 0) empty = b
    }
    const sameKey = base >= 0
    if (base < 0) base = empty >= 0 ? empty : this.evict(hash)
    const w = base >> 2
    const close = this.open(w)
    this.i32[w + 1] = hash | 0
    if (!sameKey) this.i32[w + 2] = 0 // a new key starts unreferenced; an updated one keeps its CLOCK bit
    this.i32[w + 3] = objectCheck(hash, object)
    this.u16[(base + keyLengthAt) >> 1] = key.length
    this.u16[(base + objectLengthAt) >> 1] = object.length
    const at = base + slotHeaderBytes
    this.u8.set(key, at)
    this.u8.set(object, at + key.length)
    Atomics.store(this.i32, w, close)
  }

  /** CLOCK over the ways of a full set: the first way not referenced since the hand last passed. */
  private evict(hash: number): number {
    for (let i = 0; i < 2 * ways; i++) {
      const base = this.base(hash, this.victim++ & (ways - 1))
      const w = base >> 2
      if (this.i32[w + 2] === 0) return base
      this.i32[w + 2] = 0
    }
    return this.base(hash, this.victim++ & (ways - 1))
  }

  /** Empties the entry of `key`, if cached. */
  remove(hash: number, key: Uint8Array): void {
    for (let way = 0; way < ways; way++) {
      const base = this.base(hash, way)
      if (this.holds(base, hash, key)) this.empty(base >> 2)
    }
  }

  /** Empties every slot. */
  clear(): void {
    for (let slot = 0; slot < this.slots; slot++) this.empty((headerBytes >> 2) + slot * slotWords)
  }

  private empty(w: number): void {
    const close = this.open(w)
    this.u16[(w << 1) + (keyLengthAt >> 1)] = 0
    Atomics.store(this.i32, w, close)
  }
}
