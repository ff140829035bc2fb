// Byte encoding of a stored object, version 1 (PROTOCOL.md §4.2). Canonical: equal objects
// encode to equal bytes. Unknown version → KV_UNSUPPORTED_VERSION; any other malformation →
// KV_CORRUPTION. The storage record or transport frame around it carries the checksum.

import { KvError } from '../../errors'
import { versionVectorEntriesMax } from '../../constants'
import { readVarint, varintEnd, varintLength } from '../../util/varint'
import { CodecReader, CodecWriter } from './byte_codec'
import { assertObject, checkObject, type DvvObject, type Sibling } from './dvv_object'
import type { Dot, VersionVector } from './version_vector'

export const objectFormatVersion = 1
const flagTombstone = 1
const flagExpiry = 2

export function writeVv(w: CodecWriter, vv: VersionVector): void {
  w.varint(vv.length)
  for (const e of vv) {
    w.varint(e.replica)
    w.varint(e.counter)
  }
}

export function readDots(r: CodecReader): Dot[] {
  const count = r.varint()
  if (count > versionVectorEntriesMax) r.fail(`${count} entries exceed the limit`)
  if (count > r.buf.length) r.fail('entry count exceeds the buffer')
  // Sized up front: an array grown from [] by push reserves 17 slots, and gets keep these alive.
  const out = new Array<Dot>(count)
  for (let i = 0; i < count; i++) {
    const replica = r.varint()
    const counter = r.varint()
    if (replica > 0xffffffff) r.fail('replica id is not a u32')
    out[i] = { replica, counter }
  }
  return out
}

export function encodeObject(obj: DvvObject): Buffer {
  assertObject(obj)
  const w = new CodecWriter(32 + obj.siblings.reduce((n, s) => n + s.value.length + 24, 0))
  w.u8(objectFormatVersion)
  writeVv(w, obj.vv)
  w.varint(obj.siblings.length)
  for (const s of obj.siblings) {
    w.varint(s.dot.replica)
    w.varint(s.dot.counter)
    w.u8((s.tombstone ? flagTombstone : 0) | (s.expiresAtMs !== 0 ? flagExpiry : 0))
    w.varint(s.timestampMs)
    if (s.expiresAtMs !== 0) w.varint(s.expiresAtMs)
    w.varint(s.value.length)
    w.bytes(s.value)
  }
  return w.finish()
}

/** Bytes of encodeObject(obj), without encoding it (for the client size cap). */
export function encodedObjectLength(obj: DvvObject): number {
  let n = 1 + varintLength(obj.vv.length) + varintLength(obj.siblings.length)
  for (const e of obj.vv) n += varintLength(e.replica) + varintLength(e.counter)
  for (const s of obj.siblings) {
    n += varintLength(s.dot.replica) + varintLength(s.dot.counter) + 1 + varintLength(s.timestampMs)
    if (s.expiresAtMs !== 0) n += varintLength(s.expiresAtMs)
    n += varintLength(s.value.length) + s.value.length
  }
  return n
}

/** Decodes an object. Values are views into `buf` (copy them if `buf` is reused). */
export function decodeObject(buf: Uint8Array): DvvObject {
  const r = new CodecReader(buf, 'stored object', 'KV_CORRUPTION')
  const version = r.u8()
  if (version !== objectFormatVersion) {
    throw new KvError('KV_UNSUPPORTED_VERSION', `stored object format version ${version} is not supported`, { version })
  }
  const vv = readDots(r)
  const count = r.varint()
  if (count > buf.length) r.fail('sibling count exceeds the buffer')
  const siblings = new Array<Sibling>(count)
  for (let i = 0; i < count; i++) {
    const dot = { replica: r.varint(), counter: r.varint() }
    const flags = r.u8()
    if ((flags & ~(flagTombstone | flagExpiry)) !== 0) r.fail(`unknown sibling flags ${flags}`)
    const timestampMs = r.varint()
    const expiresAtMs = flags & flagExpiry ? r.varint() : 0
    if (flags & flagExpiry && expiresAtMs === 0) r.fail('expiry flag with a zero expiry')
    const value = r.bytes(r.varint())
    siblings[i] = { dot, timestampMs, expiresAtMs, tombstone: (flags & flagTombstone) !== 0, value }
  }
  r.end()
  const obj = { vv, siblings }
  const why = checkObject(obj)
  if (why !== undefined) r.fail(why)
  return obj
}

/** Where the one sibling of an encoded object lies in its bytes (scanSingleSibling's answer). */
export interface SingleSibling {
  valueStart: number
  valueEnd: number
  expiresAtMs: number
  tombstone: boolean
}

/** scanSingleSibling's one answer object, overwritten by every call. */
const scanned: SingleSibling = { valueStart: 0, valueEnd: 0, expiresAtMs: 0, tombstone: false }

/**
 * The one sibling of the object encoded in `buf` (§4.2), read in place: nothing is allocated,
 * and the answer is overwritten by the next call. Undefined for an object of another sibling
 * count, or for bytes decodeObject would reject (it then says what is wrong): the same layout
 * and the same rules (checkObject) are checked.
 */
export function scanSingleSibling(buf: Uint8Array): SingleSibling | undefined {
  try {
    if (buf[0] !== objectFormatVersion) return undefined
    const vvEntries = readVarint(buf, 1)
    if (vvEntries > versionVectorEntriesMax) return undefined
    const vvStart = varintEnd.offset
    let at = vvStart
    let previous = -1
    for (let i = 0; i < vvEntries; i++) {
      const replica = readVarint(buf, at)
      const counter = readVarint(buf, varintEnd.offset)
      at = varintEnd.offset
      if (replica <= previous || replica > 0xffffffff || counter < 1) return undefined
      previous = replica
    }
    if (readVarint(buf, at) !== 1) return undefined
    const dotReplica = readVarint(buf, varintEnd.offset)
    const dotCounter = readVarint(buf, varintEnd.offset)
    at = varintEnd.offset
    if (dotCounter < 1 || dotCounter > vvCounter(buf, vvStart, vvEntries, dotReplica)) return undefined
    const flags = at < buf.length ? buf[at]! : -1
    if (flags < 0 || (flags & ~(flagTombstone | flagExpiry)) !== 0) return undefined
    readVarint(buf, at + 1) // timestampMs
    const expiresAtMs = flags & flagExpiry ? readVarint(buf, varintEnd.offset) : 0
    if (flags & flagExpiry && expiresAtMs === 0) return undefined
    const length = readVarint(buf, varintEnd.offset)
    const start = varintEnd.offset
    if (start + length !== buf.length || (flags & flagTombstone && length !== 0)) return undefined
    scanned.valueStart = start
    scanned.valueEnd = start + length
    scanned.expiresAtMs = expiresAtMs
    scanned.tombstone = (flags & flagTombstone) !== 0
    return scanned
  } catch {
    return undefined // a varint past the end or too long: not an object
  }
}

/** The counter of `replica` in the encoded vv of `entries` entries at `at` (0 if absent). */
function vvCounter(buf: Uint8Array, at: number, entries: number, replica: number): number {
  for (let i = 0; i < entries; i++) {
    const r = readVarint(buf, at)
    const counter = readVarint(buf, varintEnd.offset)
    at = varintEnd.offset
    if (r === replica) return counter
  }
  return 0
}
