// Encoders and decoders of the vnode messages (PROTOCOL.md §9.2, §9.3). Decoders copy
// nothing they do not have to: callers pass a payload they own (copyPayload) when they keep
// the results. Malformed input from a peer is KV_CORRUPTION; an unknown version is
// KV_UNSUPPORTED_VERSION.

import { KvError } from '../../errors'
import { readVarint, varintEnd, varintLength, writeVarint } from '../../util/varint'
import { wireVersion, WriteFlag, writeFlagsKnown } from './actors'

function fail(what: string): never {
  throw new KvError('KV_CORRUPTION', `malformed ${what} message`)
}

export function checkVersion(buf: Uint8Array, what: string): void {
  if (buf.length < 1) fail(what)
  if (buf[0] !== wireVersion) throw new KvError('KV_UNSUPPORTED_VERSION', `${what} message version ${buf[0]} is not supported`, { version: buf[0] })
}

/** A client write as it travels (§9.2 WRITE, §9.3 PUT). */
export interface WireWrite {
  readonly key: Buffer
  /** undefined: a delete. */
  readonly value: Buffer | undefined
  readonly ttlMs: number | undefined
  /** The §4.4 encoding, undefined when the client gave none. */
  readonly context: Uint8Array | undefined
}

/** WRITE (§9.2) or PUT (§9.3, with `quorum` = w as the byte after the flags). */
export function encodeWrite(w: WireWrite, quorum?: number): Buffer {
  let flags = 0
  if (w.value === undefined) flags |= WriteFlag.TOMBSTONE
  if (w.ttlMs !== undefined) flags |= WriteFlag.TTL
  if (w.context !== undefined) flags |= WriteFlag.CONTEXT
  const head = quorum === undefined ? 2 : 3
  const n = head + varintLength(w.key.length) + w.key.length +
    (w.ttlMs !== undefined ? varintLength(w.ttlMs) : 0) +
    (w.context !== undefined ? varintLength(w.context.length) + w.context.length : 0) +
    (w.value?.length ?? 0)
  const out = Buffer.allocUnsafe(n)
  out[0] = wireVersion
  out[1] = flags
  if (quorum !== undefined) out[2] = quorum
  let o = writeVarint(out, head, w.key.length)
  o += w.key.copy(out, o)
  if (w.ttlMs !== undefined) o = writeVarint(out, o, w.ttlMs)
  if (w.context !== undefined) {
    o = writeVarint(out, o, w.context.length)
    out.set(w.context, o)
    o += w.context.length
  }
  if (w.value !== undefined) o += w.value.copy(out, o)
  if (o !== n) fail('write')
  return out
}

export function decodeWrite(buf: Buffer, withQuorum: boolean): WireWrite & { quorum: number } {
  checkVersion(buf, 'write')
  const head = withQuorum ? 3 : 2
  if (buf.length < head) fail('write')
  const flags = buf[1]!
  if ((flags & ~writeFlagsKnown) !== 0) fail('write')
  const quorum = withQuorum ? buf[2]! : 0
  const keyLength = readVarint(buf, head)
  let o = varintEnd.offset
  if (o + keyLength > buf.length || keyLength === 0) fail('write')
  const key = buf.subarray(o, o + keyLength)
  o += keyLength
  let ttlMs: number | undefined
  if ((flags & WriteFlag.TTL) !== 0) {
    ttlMs = readVarint(buf, o)
    o = varintEnd.offset
  }
  let context: Uint8Array | undefined
  if ((flags & WriteFlag.CONTEXT) !== 0) {
    const n = readVarint(buf, o)
    o = varintEnd.offset
    if (o + n > buf.length) fail('write')
    context = buf.subarray(o, o + n)
    o += n
  }
  const tombstone = (flags & WriteFlag.TOMBSTONE) !== 0
  if (tombstone && o !== buf.length) fail('write')
  return { key, value: tombstone ? undefined : buf.subarray(o), ttlMs, context, quorum }
}

/** WRITE response: the stored object and the client's context. */
export function encodeWriteReply(object: Uint8Array, context: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(1 + varintLength(object.length) + object.length + context.length)
  out[0] = wireVersion
  let o = writeVarint(out, 1, object.length)
  out.set(object, o)
  o += object.length
  out.set(context, o)
  return out
}

export function decodeWriteReply(buf: Buffer): { object: Buffer; context: Buffer } {
  checkVersion(buf, 'write reply')
  const n = readVarint(buf, 1)
  const o = varintEnd.offset
  if (o + n > buf.length) fail('write reply')
  return { object: buf.subarray(o, o + n), context: buf.subarray(o + n) }
}

/** REPLICATE, REPAIR, HANDOFF (object given) and READ (object undefined). */
export function encodeKeyed(hintFor: number, key: Buffer, object: Uint8Array | undefined): Buffer {
  const objLength = object?.length ?? 0
  const n = 1 + varintLength(hintFor) + varintLength(key.length) + key.length + objLength
  const out = Buffer.allocUnsafe(n)
  out[0] = wireVersion
  let o = writeVarint(out, 1, hintFor)
  o = writeVarint(out, o, key.length)
  o += key.copy(out, o)
  if (object !== undefined) out.set(object, o)
  return out
}

export interface Keyed {
  hintFor: number
  key: Buffer
  /** The rest of the payload: the object bytes (empty for READ). */
  object: Buffer
}

export function decodeKeyed(buf: Buffer): Keyed {
  checkVersion(buf, 'vnode')
  const hintFor = readVarint(buf, 1)
  const keyLength = readVarint(buf, varintEnd.offset)
  const o = varintEnd.offset
  if (keyLength === 0 || o + keyLength > buf.length) fail('vnode')
  return { hintFor, key: buf.subarray(o, o + keyLength), object: buf.subarray(o + keyLength) }
}

/** An answer carrying optional object bytes (READ response, GET response). */
export function encodeObjectReply(object: Uint8Array | undefined): Buffer {
  const out = Buffer.allocUnsafe(1 + (object?.length ?? 0))
  out[0] = wireVersion
  if (object !== undefined) out.set(object, 1)
  return out
}

export function decodeObjectReply(buf: Buffer): Buffer | undefined {
  checkVersion(buf, 'object reply')
  return buf.length === 1 ? undefined : buf.subarray(1)
}

export const ackPayload = Buffer.from([wireVersion])

/** GET (§9.3). */
export function encodeGet(key: Buffer, r: number): Buffer {
  const out = Buffer.allocUnsafe(2 + varintLength(key.length) + key.length)
  out[0] = wireVersion
  out[1] = r
  const o = writeVarint(out, 2, key.length)
  key.copy(out, o)
  return out
}

export function decodeGet(buf: Buffer): { key: Buffer; r: number } {
  checkVersion(buf, 'get')
  if (buf.length < 3) fail('get')
  const n = readVarint(buf, 2)
  const o = varintEnd.offset
  if (n === 0 || o + n !== buf.length) fail('get')
  return { key: buf.subarray(o), r: buf[1]! }
}
