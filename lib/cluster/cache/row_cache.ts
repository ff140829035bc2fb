// The shared read cache of one node (PROTOCOL.md §9.8): a hash table of 2 KiB buckets in a
// SharedArrayBuffer, written by its node only and read by the caller's thread (and by the node
// itself, through `getOwn`: its thread is the only writer, so it needs no seqlock). A bucket holds
// an index of up to 15 entries and a data area of entries of any size (key + object up to
// 1912 bytes), and is one seqlock: the writer makes `seq` odd, writes, makes it even; a
// reader that sees an odd `seq`, or a different `seq` after copying, counts a miss. A torn read
// is therefore never returned (everything read before the confirmation is bounds-checked, as
// it may be torn), and a miss is always safe (the caller then asks the node). The writer opens
// a bucket with an atomic exchange and closes it with Atomics.store; the reader confirms with a
// compareExchange. On x86-64 that orders every plain access of the bucket; where the CPU may
// reorder plain accesses around atomics, readers also verify a checksum of the object that
// the writer stores in the entry (`verifyReads`). A writer that died with a bucket open left
// `seq` odd: the next writer empties the bucket and keeps the parity right. Eviction is CLOCK
// within a bucket: a caller's hit sets its index entry's `ref` byte (the only byte a reader
// writes, a benign race), and the writer passes over referenced entries once, clearing them,
// before it evicts. The node's own lookups leave `ref` alone: a key it writes is not thereby
// one the caller reads.

import { assert } from '../../assert'
import { readCacheBucketBytes, readCacheBytesMax } from '../../constants'
import { invalidArgument } from '../../errors'
import { hash32 } from '../../util/hash'
import { native } from '../../storage/mmap/native'

/** The buffer's header: word 0 is `enabled`. */
const headerBytes = 64
const bucketBytes = readCacheBucketBytes
/** Bucket header: u32 seq, u8 count, u8 hand, u16 end; then the index. */
const countAt = 4
const handAt = 5
const endAt = 6
const indexAt = 8
/** An index entry: u32 hash, u16 offset (in the bucket), u8 ref, u8 0. */
const indexEntryBytes = 8
const offsetAt = 4
const refAt = 6
const entriesMax = 15
const dataAt = indexAt + entriesMax * indexEntryBytes
const dataBytes = bucketBytes - dataAt
/** An entry: u16 keyLength, u16 objectLength, u32 check, key, object. */
const entryHeaderBytes = 8
const checkAt = 4
/** The largest key plus object a bucket holds. */
export const readCacheEntryBytesMax = dataBytes - entryHeaderBytes
/** Caches this large ask for transparent huge pages. */
const readCacheHugePagesFrom = 4 * 1024 * 1024
/** A cache line. */
const prefetchSpan = 64
/** How much of an entry `prefetchEntry` loads (a 16-byte key and a 100-byte value: about 145 bytes). */
const prefetchEntryBytes = 256
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

function entrySize(keyLength: number, objectLength: number): number {
  return (entryHeaderBytes + keyLength + objectLength + 3) & ~3
}

/** KV_INVALID_ARGUMENT unless `bytes` is 0 (no cache) or a cache size createReadCache takes. */
export function checkReadCacheBytes(bytes: unknown): number {
  if (bytes === 0) return 0
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < bucketBytes || bytes > readCacheBytesMax) {
    throw invalidArgument(`readCacheBytes must be 0 or an integer in [${bucketBytes}, ${readCacheBytesMax}]`, { readCacheBytes: String(bytes) })
  }
  return bytes
}

/** A cache buffer of `bytes` rounded down to a power-of-two number of buckets (plus a 64-byte header). */
export function createReadCache(bytes: number): SharedArrayBuffer {
  if (checkReadCacheBytes(bytes) === 0) throw invalidArgument('a read cache needs bytes')
  const buckets = 2 ** Math.floor(Math.log2(bytes / bucketBytes))
  const buffer = new SharedArrayBuffer(headerBytes + buckets * bucketBytes)
  // Reads land anywhere in the table: with 4 KiB pages nearly every one is a TLB miss (costly
  // under a hypervisor's nested paging). Huge pages where the kernel offers them (THP in
  // "madvise" mode); advised before the nodes first touch the memory. Best effort.
  if (buffer.byteLength >= readCacheHugePagesFrom) native?.hugePages?.(new Uint8Array(buffer))
  return buffer
}

export class RowCache {
  private readonly i32: Int32Array
  private readonly u16: Uint16Array
  private readonly u8: Uint8Array
  private readonly bucketMask: number
  /** What the last probe or find saw: its bucket's `seq`, the entry, its object's length, its `ref` byte. */
  private probedSeq = 0
  private probedEntry = 0
  private probedLength = 0
  private probedRef = 0

  /** `verify`: readers check each object's checksum (default: `verifyReads`). */
  constructor(
    readonly buffer: SharedArrayBuffer,
    private readonly verify = verifyReads,
  ) {
    const buckets = (buffer.byteLength - headerBytes) / bucketBytes
    assert(Number.isInteger(Math.log2(buckets)), 'a read cache has a power-of-two number of buckets')
    this.i32 = new Int32Array(buffer)
    this.u16 = new Uint16Array(buffer)
    this.u8 = new Uint8Array(buffer)
    this.bucketMask = buckets - 1
  }

  get enabled(): boolean {
    return Atomics.load(this.i32, 0) === 1
  }

  setEnabled(on: boolean): void {
    Atomics.store(this.i32, 0, on ? 1 : 0)
  }

  get buckets(): number {
    return this.bucketMask + 1
  }

  /** The byte offset of the bucket of `hash`. */
  private bucketOf(hash: number): number {
    return headerBytes + (hash & this.bucketMask) * bucketBytes
  }

  // ---- reader (the caller's thread) ----

  /**
   * Loads, and discards, what a lookup of `hash` reads first: the bucket's header and index. A
   * reader of several caches calls this on each, then `prefetchEntry` on each, then looks up:
   * the lookups' cache misses then overlap instead of following one another (§9.8). The result
   * means nothing; it is returned so that the loads are not optimized away.
   */
  prefetchBucket(hash: number): number {
    const b = this.bucketOf(hash)
    // The header and index are bytes 0..127: two cache lines, or three where the buffer does
    // not start on a line (its allocator only promises 16-byte alignment).
    return this.i32[b >> 2]! ^ this.i32[(b + prefetchSpan) >> 2]! ^ this.i32[(b + dataAt - 4) >> 2]!
  }

  /**
   * As prefetchBucket, for a byte in every 64 of the first 256 bytes of the first entry the
   * index names for `hash` (stopping at the bucket's end; the key is not compared).
   */
  prefetchEntry(hash: number): number {
    const b = this.bucketOf(hash)
    const { i32, u16, u8 } = this
    const count = u8[b + countAt]!
    if (count > entriesMax) return 0
    for (let i = 0; i < count; i++) {
      const ix = b + indexAt + i * indexEntryBytes
      if (i32[ix >> 2] !== (hash | 0)) continue
      // The bucket may be torn: stay inside it.
      const offset = u16[(ix + offsetAt) >> 1]!
      const end = Math.min(bucketBytes, offset + prefetchEntryBytes)
      let sum = 0
      for (let at = offset; at < end; at += prefetchSpan) sum += u8[b + at]!
      return sum
    }
    return 0
  }

  /**
   * The reader's first look: the byte offset of `key`'s entry, seen in a bucket whose `seq` was
   * even (left in `probedSeq`; `find` leaves the object's length and the entry's `ref` byte),
   * or -1. The caller reads the object, then confirms with `confirmed`.
   */
  private probe(hash: number, key: Uint8Array): number {
    const b = this.bucketOf(hash)
    const seq = Atomics.load(this.i32, b >> 2)
    if ((seq & 1) !== 0 || this.find(b, hash, key) < 0) return -1
    this.probedSeq = seq
    return this.probedEntry
  }

  /** The object read from entry `e` was stable (and, when verifying, intact): mark the entry referenced. */
  private confirmed(e: number, hash: number, object: Uint8Array): boolean {
    const check = this.i32[(e + checkAt) >> 2]
    const w = this.bucketOf(hash) >> 2
    // An RMW that leaves `seq` as it is, so that no read of the bucket is satisfied after it.
    if (Atomics.compareExchange(this.i32, w, this.probedSeq, this.probedSeq) !== this.probedSeq) return false
    if (this.verify && check !== objectCheck(hash, object)) return false
    this.u8[this.probedRef] = 1
    return true
  }

  /** A copy of the object cached for `key` (hash = its ring hash), or undefined. */
  get(hash: number, key: Uint8Array): Buffer | undefined {
    const e = this.probe(hash, key)
    if (e < 0) return undefined
    const at = e + entryHeaderBytes + key.length
    // (TypedArray#slice costs ~5x this here.)
    const out = Buffer.allocUnsafe(this.probedLength)
    out.set(this.u8.subarray(at, at + this.probedLength))
    return this.confirmed(e, hash, out) ? out : undefined
  }

  /** True when the cache holds exactly `object` for `key` (compared in place, nothing copied). */
  holdsObject(hash: number, key: Uint8Array, object: Uint8Array): boolean {
    const e = this.probe(hash, key)
    if (e < 0 || this.probedLength !== object.length) return false
    const u8 = this.u8
    const at = e + entryHeaderBytes + key.length
    for (let i = 0; i < object.length; i++) if (u8[at + i] !== object[i]) return false
    return this.confirmed(e, hash, object)
  }

  // ---- writer (the node) ----

  /**
   * The node's own lookup: a copy of the object cached for `key`, or undefined. Only the
   * node's thread writes the buffer, so it reads its own writes whole, with no seqlock, and
   * leaves the entry's `ref` byte alone (CLOCK counts the caller's hits only).
   */
  getOwn(hash: number, key: Uint8Array): Buffer | undefined {
    if (this.find(this.bucketOf(hash), hash, key) < 0) return undefined
    const at = this.probedEntry + entryHeaderBytes + key.length
    return Buffer.from(this.u8.subarray(at, at + this.probedLength))
  }

  /**
   * Opens bucket `b` for writing (seq odd); returns the value that closes it. A bucket left
   * open by a writer that died, or never written (a new buffer is zeros), starts empty.
   */
  private open(b: number): number {
    const w = b >> 2
    const seq = this.i32[w]!
    Atomics.exchange(this.i32, w, seq | 1)
    const end = this.u16[(b + endAt) >> 1]!
    if ((seq & 1) !== 0 || this.u8[b + countAt]! > entriesMax || end < dataAt || end > bucketBytes) this.empty(b)
    return ((seq | 1) + 1) | 0
  }

  private close(b: number, close: number): void {
    Atomics.store(this.i32, b >> 2, close)
  }

  private empty(b: number): void {
    this.u8[b + countAt] = 0
    this.u8[b + handAt] = 0
    this.u16[(b + endAt) >> 1] = dataAt
  }

  /** Caches `object` for `key`; an object too large for a bucket removes the key's entry instead. */
  put(hash: number, key: Uint8Array, object: Uint8Array): void {
    const size = entrySize(key.length, object.length)
    if (size > dataBytes) return this.remove(hash, key)
    const b = this.bucketOf(hash)
    const close = this.open(b)
    const { i32, u16, u8 } = this
    // An updated key keeps its CLOCK bit; a new key starts unreferenced.
    let ref = 0
    const old = this.find(b, hash, key)
    if (old >= 0) {
      ref = u8[b + indexAt + old * indexEntryBytes + refAt]!
      this.drop(b, old)
    }
    this.makeRoom(b, size)
    const count = u8[b + countAt]!
    const end = u16[(b + endAt) >> 1]!
    const e = b + end
    u16[e >> 1] = key.length
    u16[(e + 2) >> 1] = object.length
    i32[(e + checkAt) >> 2] = objectCheck(hash, object)
    u8.set(key, e + entryHeaderBytes)
    u8.set(object, e + entryHeaderBytes + key.length)
    const ix = b + indexAt + count * indexEntryBytes
    i32[ix >> 2] = hash | 0
    u16[(ix + offsetAt) >> 1] = end
    u8[ix + refAt] = ref
    u8[ix + refAt + 1] = 0
    u8[b + countAt] = count + 1
    u16[(b + endAt) >> 1] = end + size
    this.close(b, close)
  }

  /** Removes the entry of `key`, if cached. */
  remove(hash: number, key: Uint8Array): void {
    const b = this.bucketOf(hash)
    const close = this.open(b)
    const i = this.find(b, hash, key)
    if (i >= 0) this.drop(b, i)
    this.close(b, close)
  }

  /** Empties every bucket. */
  clear(): void {
    for (let b = headerBytes; b < this.buffer.byteLength; b += bucketBytes) {
      const close = this.open(b)
      this.empty(b)
      this.close(b, close)
    }
  }

  /**
   * The index position of `key` in bucket `b`, or -1; its entry's offset, object length and
   * `ref` byte are left in `probedEntry`, `probedLength`, `probedRef`. A reader may see the
   * bucket torn: every offset and length is checked against the bucket before it is used.
   */
  private find(b: number, hash: number, key: Uint8Array): number {
    const { i32, u16, u8 } = this
    const count = u8[b + countAt]!
    if (count > entriesMax) return -1
    const keyLength = key.length
    next: for (let i = 0; i < count; i++) {
      const ix = b + indexAt + i * indexEntryBytes
      if (i32[ix >> 2] !== (hash | 0)) continue
      const offset = u16[(ix + offsetAt) >> 1]!
      if (offset < dataAt || (offset & 3) !== 0 || offset > bucketBytes - entryHeaderBytes) return -1
      const e = b + offset
      if (u16[e >> 1] !== keyLength) continue
      const length = u16[(e + 2) >> 1]!
      if (offset + entryHeaderBytes + keyLength + length > bucketBytes) return -1
      const at = e + entryHeaderBytes
      for (let j = 0; j < keyLength; j++) if (u8[at + j] !== key[j]) continue next
      this.probedEntry = e
      this.probedLength = length
      this.probedRef = ix + refAt
      return i
    }
    return -1
  }

  /** Removes index entry `i` of open bucket `b` (the later ones move down; its bytes become garbage). */
  private drop(b: number, i: number): void {
    const count = this.u8[b + countAt]! - 1
    const ix = b + indexAt + i * indexEntryBytes
    this.u8.copyWithin(ix, ix + indexEntryBytes, b + indexAt + (count + 1) * indexEntryBytes)
    this.u8[b + countAt] = count
    let hand = this.u8[b + handAt]!
    if (hand > i) hand--
    this.u8[b + handAt] = hand >= count ? 0 : hand
  }

  /** Makes room at `end` for an entry of `size` bytes and an index entry: compacts, else evicts. */
  private makeRoom(b: number, size: number): void {
    for (;;) {
      const count = this.u8[b + countAt]!
      if (count < entriesMax) {
        if (this.u16[(b + endAt) >> 1]! + size <= bucketBytes) return
        if (this.liveBytes(b) + size <= dataBytes) return this.compact(b)
      }
      this.evict(b)
    }
  }

  private sizeAt(b: number, i: number): number {
    const e = b + this.u16[(b + indexAt + i * indexEntryBytes + offsetAt) >> 1]!
    return entrySize(this.u16[e >> 1]!, this.u16[(e + 2) >> 1]!)
  }

  private liveBytes(b: number): number {
    let n = 0
    for (let i = 0; i < this.u8[b + countAt]!; i++) n += this.sizeAt(b, i)
    return n
  }

  /** Moves the live entries down, in order (the index is in data order), and sets `end` after them. */
  private compact(b: number): void {
    let to = dataAt
    for (let i = 0; i < this.u8[b + countAt]!; i++) {
      const at = (b + indexAt + i * indexEntryBytes + offsetAt) >> 1
      const from = this.u16[at]!
      const size = this.sizeAt(b, i)
      if (from !== to) this.u8.copyWithin(b + to, b + from, b + from + size)
      this.u16[at] = to
      to += size
    }
    this.u16[(b + endAt) >> 1] = to
  }

  /** CLOCK over the index: the first entry not referenced since the hand last passed. */
  private evict(b: number): void {
    const count = this.u8[b + countAt]!
    let hand = this.u8[b + handAt]!
    if (hand >= count) hand = 0
    for (let n = 0; n < 2 * count; n++) {
      const ref = b + indexAt + hand * indexEntryBytes + refAt
      if (this.u8[ref] === 0) break
      this.u8[ref] = 0
      hand = (hand + 1) % count
    }
    this.u8[b + handAt] = hand
    this.drop(b, hand)
  }
}
