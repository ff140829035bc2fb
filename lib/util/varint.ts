// Unsigned LEB128 varints for integers up to 2^53 - 1 (JS safe integers), as in LevelDB's
// coding.h but without 32/64-bit variants: one encoding for every unsigned field.
// Bit operations only below 2^31; above that, division keeps the value exact.

import { assert } from '../assert'
import { corruption } from '../errors'

/** Bytes that encode `n` (1..8). */
export function varintLength(n: number): number {
  let len = 1
  while (n >= 0x80) {
    n = Math.floor(n / 128)
    len++
  }
  return len
}

/** Writes `n` at `offset`; returns the offset after it. */
export function writeVarint(buf: Uint8Array, offset: number, n: number): number {
  assert(Number.isSafeInteger(n) && n >= 0, `varint out of range: ${n}`)
  while (n >= 0x80) {
    buf[offset++] = (n & 0x7f) | 0x80
    n = n < 0x80000000 ? n >>> 7 : Math.floor(n / 128)
  }
  buf[offset++] = n
  return offset
}

/** `n` as a Buffer of its own (a stored number). */
export function varintBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(varintLength(n))
  writeVarint(b, 0, n)
  return b
}

/**
 * Reads a varint at `offset`. Returns the value; the offset after it is left in
 * `varintEnd.offset` (a shared scratch cell, to avoid allocating a pair per call on hot paths).
 * Throws KV_CORRUPTION if the varint runs past `end` or exceeds 2^53.
 */
export const varintEnd = { offset: 0 }
export function readVarint(buf: Uint8Array, offset: number, end: number = buf.length): number {
  let b = offset < end ? buf[offset]! : -1
  if (b >= 0 && b < 0x80) {
    varintEnd.offset = offset + 1
    return b
  }
  let result = 0
  let scale = 1
  for (let i = 0; i < 8; i++) {
    if (offset >= end) throw corruption('varint runs past the end of its buffer', { offset })
    b = buf[offset++]!
    result += (b & 0x7f) * scale
    if (b < 0x80) {
      if (!Number.isSafeInteger(result)) break
      varintEnd.offset = offset
      return result
    }
    scale *= 128
  }
  throw corruption('varint too long or larger than 2^53', { offset })
}
