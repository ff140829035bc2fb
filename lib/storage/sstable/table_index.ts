// The index block of an SSTable (FORMAT.md §3.2), decoded once at open into flat arrays so
// that a lookup is a binary search without allocation: the separator keys (the last key of
// each data block) concatenated in one Buffer with a Uint32Array of offsets, and each data
// block's file offset and size in Float64Arrays (exact up to 2^53).
// Invariant after decode: the data blocks tile the file from offset 0 up to `dataEnd`.

import { corruption } from '../../errors'
import { readVarint, varintEnd } from '../../util/varint'
import { blockTrailerBytes } from './block_format'
import { BlockIterator } from './block_iterator'

export class TableIndex {
  private constructor(
    readonly count: number,
    private readonly keys: Buffer,
    private readonly keyOffsets: Uint32Array,
    readonly offsets: Float64Array,
    readonly sizes: Float64Array,
  ) {}

  /** Decodes the index block `buf[start, start + size)` (crc verified) of a file whose data ends at `dataEnd`. */
  static decode(buf: Buffer, start: number, size: number, dataEnd: number, file: string, fileOffset: number): TableIndex {
    const where = { file, offset: fileOffset }
    const it = new BlockIterator(false)
    it.reset(buf, start, size, file, fileOffset)
    const keyParts: Buffer[] = []
    const offsets: number[] = []
    const sizes: number[] = []
    let keyBytes = 0
    let expectOffset = 0
    for (it.seekToStart(); it.valid(); it.next()) {
      const v = it.value()
      const off = readVarint(v, 0)
      const sz = readVarint(v, varintEnd.offset)
      if (varintEnd.offset !== v.length || off !== expectOffset) {
        throw corruption(`${file}: index entry ${offsets.length} does not follow the previous block`, where)
      }
      expectOffset = off + sz + blockTrailerBytes
      const k = Buffer.from(it.key())
      if (keyParts.length > 0 && Buffer.compare(keyParts[keyParts.length - 1]!, k) >= 0) {
        throw corruption(`${file}: index keys out of order at entry ${offsets.length}`, where)
      }
      keyParts.push(k)
      keyBytes += k.length
      offsets.push(off)
      sizes.push(sz)
    }
    if (expectOffset !== dataEnd) throw corruption(`${file}: data blocks end at ${expectOffset}, the filter starts at ${dataEnd}`, where)
    const keyOffsets = new Uint32Array(keyParts.length + 1)
    const keys = Buffer.allocUnsafe(keyBytes)
    let p = 0
    for (let i = 0; i < keyParts.length; i++) {
      keyOffsets[i] = p
      keyParts[i]!.copy(keys, p)
      p += keyParts[i]!.length
    }
    keyOffsets[keyParts.length] = p
    return new TableIndex(offsets.length, keys, keyOffsets, Float64Array.from(offsets), Float64Array.from(sizes))
  }

  /** The first data block whose last key is >= key, or `count` if none: where key can only be. */
  find(key: Uint8Array): number {
    // Binary search that skips the prefix every remaining candidate shares with the key:
    // keys[0, lo) < key <= keys[hi, count), and a key between keys[lo - 1] and keys[hi] shares
    // min(lcpLo, lcpHi) leading bytes with the target (sorted order).
    const keys = this.keys
    const ko = this.keyOffsets
    const kl = key.length
    let lo = 0
    let hi = this.count
    let lcpLo = 0
    let lcpHi = 0
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const a = ko[mid]!
      const al = ko[mid + 1]! - a
      let j = lcpLo < lcpHi ? lcpLo : lcpHi
      const n = al < kl ? al : kl
      while (j < n && keys[a + j] === key[j]) j++
      const c = j < n ? keys[a + j]! - key[j]! : al - kl
      if (c < 0) {
        lo = mid + 1
        lcpLo = j
      } else {
        hi = mid
        lcpHi = j
      }
    }
    return lo
  }

  /** The last key of data block i (a view). */
  key(i: number): Buffer {
    return this.keys.subarray(this.keyOffsets[i]!, this.keyOffsets[i + 1]!)
  }
}
