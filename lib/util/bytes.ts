// Byte helpers shared by every format: key coercion, comparison, fixed-width little-endian
// integers (u64 as two u32 halves: values stay exact JS numbers below 2^53).

import { assert } from '../assert'

export type KeyLike = string | Uint8Array

/** Keys and values may be given as strings (UTF-8) or bytes; internally they are Buffers. */
export function toBuffer(x: KeyLike): Buffer {
  if (typeof x === 'string') return Buffer.from(x, 'utf8')
  if (Buffer.isBuffer(x)) return x
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength)
}

/**
 * Short ASCII strings written into one reused buffer, for a lookup that needs a key's bytes
 * only during one synchronous call. `view(s)` is a view of the scratch (one per length, made
 * once: nothing is allocated), valid until the next call; undefined for a string it does not
 * take (empty, longer than `size`, or not ASCII), which the caller converts with toBuffer.
 */
export class KeyScratch {
  private readonly buf: Buffer
  private readonly views: (Buffer | undefined)[] = []

  constructor(readonly size = 256) {
    this.buf = Buffer.alloc(size)
  }

  view(s: string): Buffer | undefined {
    const n = s.length
    if (n === 0 || n > this.size) return undefined
    const buf = this.buf
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c > 0x7f) return undefined
      buf[i] = c
    }
    return (this.views[n] ??= buf.subarray(0, n))
  }
}

/**
 * Bytewise order: the one order of keys in every Ringwood file and iterator. A JS loop for
 * short keys (cheaper than the native call below ~32 bytes), Buffer.compare above.
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length
  if (n > 32) return Buffer.compare(a, b)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

export function writeU32(buf: Uint8Array, offset: number, n: number): number {
  buf[offset] = n & 0xff
  buf[offset + 1] = (n >>> 8) & 0xff
  buf[offset + 2] = (n >>> 16) & 0xff
  buf[offset + 3] = (n >>> 24) & 0xff
  return offset + 4
}

export function readU32(buf: Uint8Array, offset: number): number {
  return (buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16)) + buf[offset + 3]! * 0x1000000
}

/** Writes a non-negative safe integer as 8 bytes little-endian. */
export function writeU64(buf: Uint8Array, offset: number, n: number): number {
  assert(Number.isSafeInteger(n) && n >= 0, `u64 out of range: ${n}`)
  writeU32(buf, offset, n % 0x100000000)
  writeU32(buf, offset + 4, Math.floor(n / 0x100000000))
  return offset + 8
}

/** Reads 8 bytes little-endian; returns NaN-free numbers only below 2^53 (else -1). */
export function readU64(buf: Uint8Array, offset: number): number {
  const lo = readU32(buf, offset)
  const hi = readU32(buf, offset + 4)
  if (hi >= 0x200000) return -1
  return hi * 0x100000000 + lo
}

/** Smallest key strictly greater than every key with prefix `p`, or undefined if none. */
export function prefixSuccessor(p: Uint8Array): Buffer | undefined {
  const out = Buffer.from(p)
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! !== 0xff) {
      out[i]!++
      return out.subarray(0, i + 1)
    }
  }
  return undefined
}

/**
 * For dumps and error messages: printable ASCII as a quoted string, anything else as hex;
 * more than `max` bytes are cut, with the full size appended.
 */
export function showBytes(b: Uint8Array, max = 64): string {
  const shown = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, max))
  const more = b.length > max ? `...(${b.length} bytes)` : ''
  for (const c of shown) if (c < 0x20 || c > 0x7e) return `0x${shown.toString('hex')}${more}`
  return `${JSON.stringify(shown.toString('latin1'))}${more}`
}
