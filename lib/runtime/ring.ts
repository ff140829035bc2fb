// One bounded single-producer/single-consumer byte ring in a SharedArrayBuffer
// (RUNTIME.md §1). The producer writes 8-byte aligned records and publishes its writeIndex;
// the consumer reads and publishes its readIndex after a batch. Indices are byte counts
// modulo 2^32; the capacity is a power of two no larger than 2^30, so `(w - r) >>> 0` is the
// fill level and `i & mask` the offset. Records never wrap (PAD, or a skipped short tail).

import { assert } from '../assert'
import { mailboxFragmentDivisor, mailboxRingBytesMax, mailboxRingBytesMin } from '../constants'
import { align8, HEADER_BYTES, H_LENGTH, H_SEQ, H_VKF, Kind, packVkf } from './envelope'

export const RING_HEADER_BYTES = 128
const W_WRITE = 0
const W_WAITING = 1
const W_CAPACITY = 2
const W_MAGIC = 3
const W_READ = 16
const W_CONSUMED_SEQ = 17
export const RING_MAGIC = 0x52574731

export function createRing(capacityBytes: number): SharedArrayBuffer {
  assert(Number.isInteger(Math.log2(capacityBytes)), `ring capacity must be a power of two: ${capacityBytes}`)
  assert(capacityBytes >= mailboxRingBytesMin && capacityBytes <= mailboxRingBytesMax, `ring capacity out of range: ${capacityBytes}`)
  const sab = new SharedArrayBuffer(RING_HEADER_BYTES + capacityBytes)
  const h = new Int32Array(sab, 0, RING_HEADER_BYTES >> 2)
  h[W_CAPACITY] = capacityBytes
  h[W_MAGIC] = RING_MAGIC
  return sab
}

/** The largest record (header included) one ring of this capacity accepts. */
export function fragmentBytesMax(capacityBytes: number): number {
  return capacityBytes / mailboxFragmentDivisor
}

class RingBase {
  readonly sab: SharedArrayBuffer
  readonly header: Int32Array
  readonly u8: Uint8Array
  readonly d32: Int32Array
  readonly capacity: number
  readonly mask: number

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab
    this.header = new Int32Array(sab, 0, RING_HEADER_BYTES >> 2)
    this.capacity = this.header[W_CAPACITY]!
    assert(this.header[W_MAGIC] === RING_MAGIC, 'not a mailbox ring (bad magic)')
    assert(sab.byteLength === RING_HEADER_BYTES + this.capacity, 'ring size does not match its header')
    this.mask = this.capacity - 1
    this.u8 = new Uint8Array(sab, RING_HEADER_BYTES, this.capacity)
    this.d32 = new Int32Array(sab, RING_HEADER_BYTES, this.capacity >> 2)
  }
}

export class RingWriter extends RingBase {
  /** Local write index, published by publish(). */
  private w = 0
  private readCache = 0
  private seq = 0
  private published = 0
  readonly recordBytesMax: number

  constructor(sab: SharedArrayBuffer) {
    super(sab)
    this.w = Atomics.load(this.header, W_WRITE) >>> 0
    this.published = this.w
    this.readCache = Atomics.load(this.header, W_READ) >>> 0
    assert(this.w === this.readCache, 'a ring is handed to its producer empty')
    this.recordBytesMax = fragmentBytesMax(this.capacity)
  }

  private hasFree(n: number): boolean {
    if (this.capacity - ((this.w - this.readCache) >>> 0) >= n) return true
    this.readCache = Atomics.load(this.header, W_READ) >>> 0
    const used = (this.w - this.readCache) >>> 0
    assert(used <= this.capacity, 'ring consumer passed its producer')
    return this.capacity - used >= n
  }

  /**
   * Reserves a record of HEADER_BYTES + payloadBytes; returns its byte offset in `u8`/`d32`
   * (payload at +HEADER_BYTES), or -1 if the ring is full. The caller fills the header with
   * commit() right away; the record becomes visible at the next publish().
   */
  reserve(payloadBytes: number): number {
    const need = align8(HEADER_BYTES + payloadBytes)
    let pos = this.w & this.mask
    const tail = this.capacity - pos
    if (need > tail) {
      if (!this.hasFree(tail)) return -1
      if (tail >= HEADER_BYTES) {
        const p = pos >> 2
        this.d32[p + H_LENGTH] = tail
        this.d32[p + H_SEQ] = ++this.seq
        this.d32[p + H_VKF] = packVkf(Kind.PAD, 0)
      }
      this.w = (this.w + tail) >>> 0
      pos = 0
    }
    if (!this.hasFree(need)) return -1
    return pos
  }

  /** Completes the record reserved at `pos`: its length and sequence number. */
  commit(pos: number, payloadBytes: number): void {
    const len = HEADER_BYTES + payloadBytes
    const p = pos >> 2
    this.d32[p + H_LENGTH] = len
    this.d32[p + H_SEQ] = ++this.seq
    this.w = (this.w + align8(len)) >>> 0
  }

  get dirty(): boolean {
    return this.w !== this.published
  }

  /** Makes committed records visible to the consumer (a release store). */
  publish(): void {
    if (this.w === this.published) return
    Atomics.store(this.header, W_WRITE, this.w | 0)
    this.published = this.w
    const consumed = Atomics.load(this.header, W_CONSUMED_SEQ) >>> 0
    assert(((this.seq - consumed) | 0) >= 0, 'ring consumer reports a sequence number never written')
  }

  /** §5: ask the consumer to ring our doorbell when it frees space. */
  setWaiting(): void {
    Atomics.store(this.header, W_WAITING, 1)
  }
}

export class RingReader extends RingBase {
  private r = 0
  private released = 0
  private seq = 0
  /** Fragments of a message being reassembled (§2), owned by the endpoint. */
  partial: Uint8Array[] | null = null
  partialBytes = 0

  constructor(sab: SharedArrayBuffer) {
    super(sab)
    this.r = Atomics.load(this.header, W_READ) >>> 0
    this.released = this.r
    this.seq = Atomics.load(this.header, W_CONSUMED_SEQ) >>> 0
  }

  hasData(): boolean {
    return (Atomics.load(this.header, W_WRITE) >>> 0) !== this.r
  }

  /**
   * Calls sink(pos) for up to `max` records (PADs skipped), positions being byte offsets of
   * the record in `u8`/`d32`. The records stay valid until release(). Returns the count.
   */
  take(sink: (ring: RingReader, pos: number) => void, max: number): number {
    const w = Atomics.load(this.header, W_WRITE) >>> 0
    let r = this.r
    let n = 0
    const d32 = this.d32
    while (r !== w && n < max) {
      const pos = r & this.mask
      const tail = this.capacity - pos
      if (tail < HEADER_BYTES) {
        r = (r + tail) >>> 0
        continue
      }
      const p = pos >> 2
      const len = d32[p + H_LENGTH]! >>> 0
      const seq = d32[p + H_SEQ]! >>> 0
      assert(seq === ((this.seq + 1) >>> 0), `ring sequence broken: expected ${this.seq + 1}, got ${seq}`)
      this.seq = seq
      assert(len >= HEADER_BYTES && len <= tail, `ring record length out of range: ${len}`)
      if (((d32[p + H_VKF]! >>> 8) & 0xff) === Kind.PAD) {
        r = (r + len) >>> 0
        continue
      }
      this.r = (r + align8(len)) >>> 0 // advance before the sink: it may throw a KvError
      n++
      sink(this, pos)
      r = this.r
    }
    this.r = r
    return n
  }

  /** Publishes the read index; returns true when the producer asked to be woken (§5). */
  release(): boolean {
    if (this.r === this.released) return false
    this.released = this.r
    Atomics.store(this.header, W_CONSUMED_SEQ, this.seq | 0)
    Atomics.store(this.header, W_READ, this.r | 0)
    if (Atomics.load(this.header, W_WAITING) !== 0) {
      Atomics.store(this.header, W_WAITING, 0)
      return true
    }
    return false
  }
}
