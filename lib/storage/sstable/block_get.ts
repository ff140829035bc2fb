// The point lookup inside one data block (FORMAT.md §3.1): the engine's hottest path.
// Binary search over the restart points for the last restart key < target, then a linear scan
// that compares each prefix-compressed key with the target without rebuilding it (nothing is
// allocated) and stops at the first version of the target with seq <= snapshotSeq, or at the
// first larger key.
// Invariants: the block's crc was verified by the caller; all versions of a key are in this
// block (FORMAT.md §3.1), so "not here" means "not in the table"; structural surprises are
// KV_CORRUPTION, never a wrong answer.

import { corruption } from '../../errors'
import { readU32 } from '../../util/bytes'
import { readVarint, varintEnd } from '../../util/varint'
import { Kind } from '../types'
import { compareRange } from './block_format'

const empty = Buffer.alloc(0)

/**
 * The result of TableReader.get. One object per reader, reused: valid until the next get()
 * on that reader. `value` is a view into the block (a mapping or a block read): copy it to keep.
 */
export class TableGetResult {
  seq = 0
  kind: Kind = Kind.Put
  expiresAtMs = 0
  source: Buffer = empty
  valueStart = 0
  valueEnd = 0

  get value(): Buffer {
    return this.source.subarray(this.valueStart, this.valueEnd)
  }

  /** A fresh copy of the value. */
  copyValue(): Buffer {
    const out = Buffer.allocUnsafe(this.valueEnd - this.valueStart)
    this.source.copy(out, 0, this.valueStart, this.valueEnd)
    return out
  }
}

/** Fills `out` and returns true if block `buf[start, start + size)` holds a version of `key` with seq <= snapshotSeq. */
export function findInBlock(
  buf: Buffer, start: number, size: number, key: Uint8Array, snapshotSeq: number,
  out: TableGetResult, file: string, fileOffset: number,
): boolean {
  const end = start + size
  const count = size >= 4 ? readU32(buf, end - 4) : -1
  const limit = end - 4 - 4 * count
  if (count < 0 || limit < start) throw bad(file, fileOffset, 'restart array does not fit')
  if (count === 0) return false
  const kl = key.length
  let lo = 0
  let hi = count - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    let p = start + readU32(buf, limit + 4 * mid)
    if (p >= limit || buf[p] !== 0) throw bad(file, fileOffset, `restart ${mid} is not a full key`)
    p++
    let unshared = buf[p++]!
    if (unshared >= 0x80) {
      unshared = readVarint(buf, p - 1, limit)
      p = varintEnd.offset
    }
    if (buf[p++]! >= 0x80) {
      readVarint(buf, p - 1, limit)
      p = varintEnd.offset
    }
    if (p + unshared > limit) throw bad(file, fileOffset, `restart ${mid} runs past the entries`)
    if (compareRange(buf, p, p + unshared, key, 0, kl) < 0) lo = mid
    else hi = mid - 1
  }
  // Scan from that restart. Keys are never rebuilt: `m` is the common prefix length of the
  // previous key and the target, `sign` their order. An entry sharing more than m bytes with
  // the previous key compares exactly as it did; otherwise its bytes before `shared` equal the
  // target's, and only its suffix needs comparing.
  let p = start + readU32(buf, limit + 4 * lo)
  let m = 0
  let sign = -1
  let prevLen = 0
  while (p < limit) {
    let shared = buf[p++]!
    if (shared >= 0x80) {
      shared = readVarint(buf, p - 1, limit)
      p = varintEnd.offset
    }
    let unshared = buf[p++]!
    if (unshared >= 0x80) {
      unshared = readVarint(buf, p - 1, limit)
      p = varintEnd.offset
    }
    let vlen = buf[p++]!
    if (vlen >= 0x80) {
      vlen = readVarint(buf, p - 1, limit)
      p = varintEnd.offset
    }
    if (shared > prevLen || p + unshared >= limit) throw bad(file, fileOffset, `bad key lengths at ${p - start}`)
    if (shared <= m) {
      const n = unshared < kl - shared ? unshared : kl - shared
      let j = 0
      while (j < n && buf[p + j] === key[shared + j]) j++
      m = shared + j
      sign = j < n ? buf[p + j]! - key[shared + j]! : shared + unshared - kl
    }
    prevLen = shared + unshared
    p += unshared
    const kind = buf[p++]!
    if (kind > 2) throw bad(file, fileOffset, `unknown entry kind ${kind} at ${p - 1 - start}`)
    let seq = buf[p++]!
    if (seq >= 0x80) {
      seq = readVarint(buf, p - 1, limit)
      p = varintEnd.offset
    }
    let exp = 0
    if (kind === Kind.PutTtl) {
      exp = readVarint(buf, p, limit)
      p = varintEnd.offset
    }
    if (p + vlen > limit || (kind === Kind.Del && vlen !== 0)) throw bad(file, fileOffset, `bad value length at ${p - start}`)
    if (sign > 0) return false
    if (sign === 0 && seq <= snapshotSeq) {
      out.seq = seq
      out.kind = kind as Kind
      out.expiresAtMs = exp
      out.source = buf
      out.valueStart = p
      out.valueEnd = p + vlen
      return true
    }
    p += vlen
  }
  return false
}

function bad(file: string, offset: number, what: string): Error {
  return corruption(`${file}: block at offset ${offset}: ${what}`, { file, offset })
}
