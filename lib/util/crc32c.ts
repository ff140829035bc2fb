// CRC32C (Castagnoli), the checksum of every Ringwood record and block. Computed by
// @node-rs/crc32 (hardware CRC instructions where the CPU has them).
// Stored checksums are masked as in LevelDB (crc32c.h): a CRC of data that itself contains
// CRCs is otherwise prone to trivial collisions.

import { crc32c as native } from '@node-rs/crc32'

export function crc32c(data: Uint8Array, initial = 0): number {
  return native(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength), initial) >>> 0
}

const maskDelta = 0xa282ead8

export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + maskDelta) >>> 0
}

export function unmaskCrc(masked: number): number {
  const rot = (masked - maskDelta) >>> 0
  return ((rot >>> 17) | (rot << 15)) >>> 0
}

/** The masked CRC32C of `data`: what every format stores. */
export function checksum(data: Uint8Array): number {
  return maskCrc(crc32c(data))
}
