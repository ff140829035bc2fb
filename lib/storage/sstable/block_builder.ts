// Builds one data-block-shaped block (FORMAT.md §3.1; the index §3.2 and properties §3.4 blocks
// use it with restart interval 1): entries prefix-compressed against the previous key, a full
// key at every restart point, then the restart offsets and their count.
// Invariants: callers add entries in the order of FORMAT.md §1 (checked by TableBuilder, not
// here); restart[0] = 0; an empty block is just restartCount = 0.

import { assert, assertInteger } from '../../assert'
import { writeU32 } from '../../util/bytes'
import { varintLength, writeVarint } from '../../util/varint'
import { Kind } from '../types'

export class BlockBuilder {
  private buf = Buffer.allocUnsafe(4096)
  private pos = 0
  private restarts: number[] = []
  private sinceRestart = 0
  private lastKey = Buffer.allocUnsafe(64)
  private lastKeyLength = 0
  private entryCount = 0

  constructor(readonly restartInterval: number) {
    assertInteger(restartInterval, 1, 1 << 16, 'restartInterval')
  }

  get entries(): number {
    return this.entryCount
  }

  /** Bytes the block would have if finished now. */
  sizeEstimate(): number {
    return this.pos + 4 * this.restarts.length + 4
  }

  add(key: Uint8Array, kind: Kind, seq: number, expiresAtMs: number, value: Uint8Array): void {
    assert(kind !== Kind.Del || value.length === 0, 'a tombstone has no value')
    let shared = 0
    if (this.sinceRestart === this.restartInterval || this.entryCount === 0) {
      this.restarts.push(this.pos)
      this.sinceRestart = 0
    } else {
      const max = Math.min(this.lastKeyLength, key.length)
      while (shared < max && this.lastKey[shared] === key[shared]) shared++
    }
    const unshared = key.length - shared
    const need =
      varintLength(shared) + varintLength(unshared) + varintLength(value.length) + unshared + 1 +
      varintLength(seq) + (kind === Kind.PutTtl ? varintLength(expiresAtMs) : 0) + value.length
    this.reserve(need)
    const buf = this.buf
    let p = writeVarint(buf, this.pos, shared)
    p = writeVarint(buf, p, unshared)
    p = writeVarint(buf, p, value.length)
    buf.set(key.subarray(shared), p)
    p += unshared
    buf[p++] = kind
    p = writeVarint(buf, p, seq)
    if (kind === Kind.PutTtl) p = writeVarint(buf, p, expiresAtMs)
    buf.set(value, p)
    p += value.length
    this.pos = p
    if (this.lastKey.length < key.length) this.lastKey = Buffer.allocUnsafe(key.length * 2)
    this.lastKey.set(key, 0)
    this.lastKeyLength = key.length
    this.sinceRestart++
    this.entryCount++
  }

  /** The finished block's contents: a view valid until the next add() or reset(). */
  finish(): Buffer {
    this.reserve(4 * this.restarts.length + 4)
    let p = this.pos
    for (const r of this.restarts) p = writeU32(this.buf, p, r)
    p = writeU32(this.buf, p, this.restarts.length)
    return this.buf.subarray(0, p)
  }

  reset(): void {
    this.pos = 0
    this.restarts.length = 0
    this.sinceRestart = 0
    this.lastKeyLength = 0
    this.entryCount = 0
  }

  private reserve(n: number): void {
    if (this.pos + n + 4 * (this.restarts.length + 1) + 4 <= this.buf.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + 4 * (this.restarts.length + 1) + 4))
    this.buf.copy(grown, 0, 0, this.pos)
    this.buf = grown
  }
}
