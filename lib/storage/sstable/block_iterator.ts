// Iterates one data-block-shaped block (FORMAT.md §3.1), forward (key asc, seq desc) or reverse
// (key desc, seq asc), with seek by binary search over the restart points.
// It decodes one restart segment at a time (the entries between two restart points) into
// reused arrays, so stepping either way is O(1) amortized and nothing is allocated per entry
// except the Buffer views handed out by key()/value().
// Invariants: the block's crc was verified by the caller; every structural surprise (varint
// past the end, shared > previous key, unknown kind, bad restart) is KV_CORRUPTION naming the
// file and the block's offset. key() is a view into a reused buffer: valid until next()/seek().

import { corruption } from '../../errors'
import { readU32 } from '../../util/bytes'
import { readVarint, varintEnd } from '../../util/varint'
import { isKind, Kind } from '../types'
import { compareRange } from './block_format'

const empty = Buffer.alloc(0)

export class BlockIterator {
  private buf: Buffer = empty
  private start = 0
  private restartsAt = 0
  private restartCount = 0
  private file = ''
  private fileOffset = 0
  // The decoded segment.
  private seg = -1
  private n = 0
  private pos = 0
  private keys = Buffer.allocUnsafe(256)
  private keyOff: number[] = [0]
  private seqs: number[] = []
  private kinds: Kind[] = []
  private exps: number[] = []
  private vStart: number[] = []
  private vEnd: number[] = []

  constructor(readonly reverse: boolean) {}

  /** Points the iterator at the block `buf[start, start + size)`; it is then invalid until a seek. */
  reset(buf: Buffer, start: number, size: number, file: string, fileOffset: number): void {
    this.buf = buf
    this.start = start
    this.file = file
    this.fileOffset = fileOffset
    this.seg = -1
    this.n = 0
    this.pos = 0
    if (size < 4) throw this.corrupt('block shorter than its restart count')
    const count = readU32(buf, start + size - 4)
    const restartsAt = start + size - 4 - 4 * count
    if (restartsAt < start) throw this.corrupt(`restart count ${count} does not fit the block`)
    if (count > 0 && readU32(buf, restartsAt) !== 0) throw this.corrupt('first restart is not at offset 0')
    if (count === 0 && restartsAt !== start) throw this.corrupt('entries without restart points')
    this.restartCount = count
    this.restartsAt = restartsAt
  }

  valid(): boolean {
    return this.pos >= 0 && this.pos < this.n
  }

  seekToStart(): void {
    if (this.restartCount === 0) return this.invalidate()
    if (this.reverse) {
      this.decodeSegment(this.restartCount - 1)
      this.pos = this.n - 1
    } else {
      this.decodeSegment(0)
      this.pos = 0
    }
  }

  /** Forward: first entry with key >= target. Reverse: last entry (forward order) with key <= target. */
  seek(target: Uint8Array): void {
    if (this.restartCount === 0) return this.invalidate()
    if (this.reverse) return this.seekReverse(target)
    // The last restart whose key is < target (or 0): entries before it are all < target.
    let lo = 0
    let hi = this.restartCount - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (this.compareRestartKey(mid, target) < 0) lo = mid
      else hi = mid - 1
    }
    this.decodeSegment(lo)
    for (let i = 0; i < this.n; i++) {
      if (this.compareKeyAt(i, target) >= 0) {
        this.pos = i
        return
      }
    }
    if (lo + 1 < this.restartCount) {
      this.decodeSegment(lo + 1)
      this.pos = 0
    } else this.invalidate()
  }

  next(): void {
    if (this.reverse) {
      if (--this.pos >= 0) return
      if (this.seg > 0) {
        this.decodeSegment(this.seg - 1)
        this.pos = this.n - 1
      }
    } else {
      if (++this.pos < this.n) return
      if (this.seg + 1 < this.restartCount) {
        this.decodeSegment(this.seg + 1)
        this.pos = 0
      }
    }
  }

  key(): Buffer {
    return this.keys.subarray(this.keyOff[this.pos]!, this.keyOff[this.pos + 1]!)
  }
  seq(): number {
    return this.seqs[this.pos]!
  }
  kind(): Kind {
    return this.kinds[this.pos]!
  }
  expiresAtMs(): number {
    return this.exps[this.pos]!
  }
  value(): Buffer {
    return this.buf.subarray(this.vStart[this.pos]!, this.vEnd[this.pos]!)
  }

  private seekReverse(target: Uint8Array): void {
    // The last restart whose key is <= target; none means every key is > target.
    if (this.compareRestartKey(0, target) > 0) return this.invalidate()
    let lo = 0
    let hi = this.restartCount - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (this.compareRestartKey(mid, target) <= 0) lo = mid
      else hi = mid - 1
    }
    this.decodeSegment(lo)
    let i = this.n - 1
    while (i > 0 && this.compareKeyAt(i, target) > 0) i--
    this.pos = i
  }

  private invalidate(): void {
    this.n = 0
    this.pos = 0
  }

  private compareKeyAt(i: number, target: Uint8Array): number {
    return compareRange(this.keys, this.keyOff[i]!, this.keyOff[i + 1]!, target, 0, target.length)
  }

  private restartOffset(s: number): number {
    return this.start + readU32(this.buf, this.restartsAt + 4 * s)
  }

  private compareRestartKey(s: number, target: Uint8Array): number {
    const buf = this.buf
    const end = this.restartsAt
    let p = this.restartOffset(s)
    if (p >= end) throw this.corrupt(`restart ${s} points past the entries`)
    const shared = readVarint(buf, p, end)
    const unshared = readVarint(buf, varintEnd.offset, end)
    readVarint(buf, varintEnd.offset, end)
    p = varintEnd.offset
    if (shared !== 0 || p + unshared > end) throw this.corrupt(`restart ${s} is not a full key`)
    return compareRange(buf, p, p + unshared, target, 0, target.length)
  }

  private decodeSegment(s: number): void {
    const buf = this.buf
    let p = this.restartOffset(s)
    const end = s + 1 < this.restartCount ? this.restartOffset(s + 1) : this.restartsAt
    if (p >= end || end > this.restartsAt) throw this.corrupt(`restart segment ${s} is empty or out of order`)
    let n = 0
    let keysLen = 0
    let prevStart = 0
    let prevLen = 0
    while (p < end) {
      const shared = readVarint(buf, p, end)
      const unshared = readVarint(buf, varintEnd.offset, end)
      const vlen = readVarint(buf, varintEnd.offset, end)
      p = varintEnd.offset
      if ((n === 0 && shared !== 0) || shared > prevLen) throw this.corrupt(`bad shared length ${shared} at ${p - this.start}`)
      if (p + unshared + 1 > end) throw this.corrupt(`key runs past its segment at ${p - this.start}`)
      if (keysLen + shared + unshared > this.keys.length) {
        const grown = Buffer.allocUnsafe(Math.max(2 * this.keys.length, keysLen + shared + unshared))
        this.keys.copy(grown, 0, 0, keysLen)
        this.keys = grown
      }
      this.keys.copyWithin(keysLen, prevStart, prevStart + shared)
      buf.copy(this.keys, keysLen + shared, p, p + unshared)
      p += unshared
      const kind = buf[p++]!
      if (!isKind(kind)) throw this.corrupt(`unknown entry kind ${kind} at ${p - 1 - this.start}`)
      const seq = readVarint(buf, p, end)
      const exp = kind === Kind.PutTtl ? readVarint(buf, varintEnd.offset, end) : 0
      p = varintEnd.offset
      if (p + vlen > end || (kind === Kind.Del && vlen !== 0)) throw this.corrupt(`bad value length ${vlen} at ${p - this.start}`)
      this.seqs[n] = seq
      this.kinds[n] = kind
      this.exps[n] = exp
      this.vStart[n] = p
      this.vEnd[n] = p + vlen
      p += vlen
      prevStart = keysLen
      prevLen = shared + unshared
      keysLen += prevLen
      n++
      this.keyOff[n] = keysLen
    }
    this.seg = s
    this.n = n
  }

  private corrupt(what: string): Error {
    return corruption(`${this.file}: block at offset ${this.fileOffset}: ${what}`, { file: this.file, offset: this.fileOffset })
  }
}
