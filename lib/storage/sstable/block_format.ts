// Shared pieces of the SSTable byte format (FORMAT.md §3): block handles, the 5-byte block
// trailer (type + masked crc32c of contents||type), and a byte-range comparison that does not
// allocate (the lookup path compares keys inside blocks without making Buffers for them).

import { corruption } from '../../errors'
import { checksum } from '../../util/crc32c'
import { readU32, writeU32 } from '../../util/bytes'
import { readVarint, varintEnd, writeVarint } from '../../util/varint'

/** type:u8 crc:u32 after every block. */
export const blockTrailerBytes = 5
/** The only block type: uncompressed. */
export const blockTypeRaw = 0

export interface BlockHandle {
  offset: number
  size: number
}

export function encodeHandle(buf: Uint8Array, at: number, h: BlockHandle): number {
  return writeVarint(buf, writeVarint(buf, at, h.offset), h.size)
}

/** Decodes a handle at `at` (bounded by `end`); the offset after it is left in varintEnd. */
export function decodeHandle(buf: Uint8Array, at: number, end: number): BlockHandle {
  const offset = readVarint(buf, at, end)
  const size = readVarint(buf, varintEnd.offset, end)
  return { offset, size }
}

/** The block's bytes followed by its trailer, ready to append to the file. */
export function sealBlock(contents: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(contents.length + blockTrailerBytes)
  out.set(contents, 0)
  out[contents.length] = blockTypeRaw
  writeU32(out, contents.length + 1, checksum(out.subarray(0, contents.length + 1)))
  return out
}

/**
 * Checks the trailer of the block whose contents are `buf[start, start + size)` and whose
 * trailer follows them in `buf`. KV_CORRUPTION naming `file` and `fileOffset` on mismatch.
 */
export function verifyBlock(buf: Buffer, start: number, size: number, file: string, fileOffset: number): void {
  if (start + size + blockTrailerBytes > buf.length) {
    throw corruption(`${file}: block at offset ${fileOffset} runs past the end of the file`, { file, offset: fileOffset })
  }
  const type = buf[start + size]!
  if (type !== blockTypeRaw) {
    throw corruption(`${file}: block at offset ${fileOffset} has unknown type ${type}`, { file, offset: fileOffset })
  }
  const stored = readU32(buf, start + size + 1)
  const actual = checksum(buf.subarray(start, start + size + 1))
  if (stored !== actual) {
    throw corruption(`${file}: block at offset ${fileOffset} fails its checksum`, { file, offset: fileOffset })
  }
}

/** Bytewise comparison of a[aStart, aEnd) with b[bStart, bEnd); no allocation. */
export function compareRange(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const aLen = aEnd - aStart
  const bLen = bEnd - bStart
  const n = aLen < bLen ? aLen : bLen
  for (let i = 0; i < n; i++) {
    const d = a[aStart + i]! - b[bStart + i]!
    if (d !== 0) return d
  }
  return aLen - bLen
}
