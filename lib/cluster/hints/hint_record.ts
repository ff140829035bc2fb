// The hint record, version 1 (PROTOCOL.md §6.1): a write a fallback holds for an intended
// owner. Checksummed (masked CRC32C over every preceding byte). Unknown version →
// KV_UNSUPPORTED_VERSION; bad checksum or structure → KV_CORRUPTION.

import { KvError } from '../../errors'
import { keyBytesMax } from '../../constants'
import { checksum } from '../../util/crc32c'
import { CodecReader, CodecWriter } from '../versioning/byte_codec'
import { decodeObject, encodeObject } from '../versioning/object_codec'
import type { DvvObject } from '../versioning/dvv_object'
import { assert } from '../../assert'

export const hintFormatVersion = 1

export interface HintRecord {
  readonly intendedOwner: number
  readonly partition: number
  readonly createdAtMs: number
  readonly key: Buffer
  readonly object: DvvObject
}

export function encodeHint(h: HintRecord): Buffer {
  assert(h.key.length >= 1 && h.key.length <= keyBytesMax, 'hint key within limits')
  const object = encodeObject(h.object)
  const w = new CodecWriter(32 + h.key.length + object.length)
  w.u8(hintFormatVersion)
  w.varint(h.intendedOwner)
  w.varint(h.partition)
  w.varint(h.createdAtMs)
  w.varint(h.key.length)
  w.bytes(h.key)
  w.varint(object.length)
  w.bytes(object)
  const body = w.finish()
  w.u32(checksum(body))
  return w.finish()
}

export function decodeHint(buf: Uint8Array): HintRecord {
  const r = new CodecReader(buf, 'hint record', 'KV_CORRUPTION')
  const version = r.u8()
  if (version !== hintFormatVersion) throw new KvError('KV_UNSUPPORTED_VERSION', `hint record version ${version} is not supported`, { version })
  if (buf.length < 5) r.fail('truncated')
  const stored = new CodecReader(buf.subarray(buf.length - 4), 'hint record', 'KV_CORRUPTION').u32()
  if (checksum(buf.subarray(0, buf.length - 4)) !== stored) r.fail('checksum mismatch')
  const body = new CodecReader(buf.subarray(0, buf.length - 4), 'hint record', 'KV_CORRUPTION')
  body.offset = 1
  const intendedOwner = body.varint()
  const partition = body.varint()
  const createdAtMs = body.varint()
  const keyLength = body.varint()
  if (keyLength < 1 || keyLength > keyBytesMax) body.fail(`key length ${keyLength} out of range`)
  const key = body.bytes(keyLength)
  const object = decodeObject(body.bytes(body.varint()))
  body.end()
  if (intendedOwner > 0xffffffff) body.fail('owner is not a u32')
  return { intendedOwner, partition, createdAtMs, key, object }
}
