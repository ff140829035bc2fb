// The SSTable footer (FORMAT.md §3.5): the last 48 bytes of the file. Three block handles
// (filter, properties, index) as varints zero-padded to 36 bytes, the format version, the magic.
// Decoding checks, in this order: magic (KV_CORRUPTION), version (KV_UNSUPPORTED_VERSION),
// handles and zero padding (KV_CORRUPTION). Whether the handles tile the file is checked by
// the table reader, which knows the data blocks.

import { assert } from '../../assert'
import { corruption, KvError } from '../../errors'
import { readU32, writeU32 } from '../../util/bytes'
import { varintEnd } from '../../util/varint'
import { type BlockHandle, decodeHandle, encodeHandle } from './block_format'

export const footerBytes = 48
export const footerHandlesBytes = 36
export const tableFormatVersion = 1
/** "RINGWOOD" as a big-endian u64 = 0x52494e47574f4f44, stored little-endian as two u32 halves. */
export const tableMagicLo = 0x574f4f44
export const tableMagicHi = 0x52494e47

export interface Footer {
  filter: BlockHandle
  properties: BlockHandle
  index: BlockHandle
  version: number
}

export function encodeFooter(f: Omit<Footer, 'version'>): Buffer {
  const out = Buffer.alloc(footerBytes)
  let p = encodeHandle(out, 0, f.filter)
  p = encodeHandle(out, p, f.properties)
  p = encodeHandle(out, p, f.index)
  assert(p <= footerHandlesBytes, 'footer handles exceed 36 bytes (table larger than 4 TiB?)')
  writeU32(out, footerHandlesBytes, tableFormatVersion)
  writeU32(out, footerHandlesBytes + 4, tableMagicLo)
  writeU32(out, footerHandlesBytes + 8, tableMagicHi)
  return out
}

/** `buf` holds exactly the footer's 48 bytes, which sit at `fileOffset` in `file`. */
export function decodeFooter(buf: Buffer, file: string, fileOffset: number): Footer {
  const where = { file, offset: fileOffset }
  if (buf.length !== footerBytes) throw corruption(`${file}: too short to be an SSTable (${buf.length + fileOffset} bytes)`, where)
  if (readU32(buf, footerHandlesBytes + 4) !== tableMagicLo || readU32(buf, footerHandlesBytes + 8) !== tableMagicHi) {
    throw corruption(`${file}: not an SSTable (bad magic in the footer at ${fileOffset})`, where)
  }
  const version = readU32(buf, footerHandlesBytes)
  if (version !== tableFormatVersion) {
    throw new KvError('KV_UNSUPPORTED_VERSION', `${file}: SSTable format version ${version} is not supported (this build reads ${tableFormatVersion})`, where)
  }
  try {
    const filter = decodeHandle(buf, 0, footerHandlesBytes)
    const properties = decodeHandle(buf, varintEnd.offset, footerHandlesBytes)
    const index = decodeHandle(buf, varintEnd.offset, footerHandlesBytes)
    for (let p = varintEnd.offset; p < footerHandlesBytes; p++) {
      if (buf[p] !== 0) throw corruption('nonzero footer padding')
    }
    return { filter, properties, index, version }
  } catch (err) {
    throw corruption(`${file}: malformed footer at ${fileOffset}: ${(err as Error).message}`, where)
  }
}
