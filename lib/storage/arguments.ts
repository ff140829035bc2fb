// Argument checks of the engine's public methods (lib/storage/engine.ts): keys, values, TTLs
// and batches are validated against lib/constants.ts before anything is written, and copied
// (the memtable keeps what it is given; the caller may reuse its buffers). Over a limit or of
// a wrong type is KV_INVALID_ARGUMENT.

import * as C from '../constants'
import { invalidArgument } from '../errors'
import { toBuffer, type KeyLike } from '../util/bytes'
import type { Clock } from '../util/clock'
import { Kind, type Entry } from './types'

export type BatchOp =
  | { type: 'put'; key: KeyLike; value: KeyLike; ttlMs?: number; expiresAtMs?: number }
  | { type: 'del'; key: KeyLike }

const empty = Buffer.alloc(0)

/** A key to store: validated and copied. */
export function checkKey(key: KeyLike): Buffer {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) throw invalidArgument('a key must be a string or a Uint8Array')
  const k = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(toBuffer(key))
  if (k.length > C.keyBytesMax) throw invalidArgument(`a key is at most ${C.keyBytesMax} bytes, got ${k.length}`, { limit: C.keyBytesMax })
  return k
}

/** A key to look up: validated, not copied. */
export function keyForRead(key: KeyLike): Buffer {
  if (typeof key === 'string') return Buffer.from(key, 'utf8')
  if (!(key instanceof Uint8Array)) throw invalidArgument('a key must be a string or a Uint8Array')
  return toBuffer(key)
}

/** A value to store: validated and copied. */
export function checkValue(value: KeyLike | undefined): Buffer {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw invalidArgument('a value must be a string or a Uint8Array')
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(toBuffer(value))
  if (v.length > C.valueBytesMax) throw invalidArgument(`a value is at most ${C.valueBytesMax} bytes, got ${v.length}`, { limit: C.valueBytesMax })
  return v
}

/** The entry of a put (seq is assigned when it is applied): `ttlMs` from now, or `expiresAtMs` (absolute). */
export function putEntry(key: KeyLike, value: KeyLike, ttlMs: number | undefined, clock: Clock, expiresAtMs?: number): Entry {
  const k = checkKey(key)
  const v = checkValue(value)
  if (expiresAtMs !== undefined) {
    if (ttlMs !== undefined) throw invalidArgument('a put takes ttlMs or expiresAtMs, not both')
    if (!Number.isSafeInteger(expiresAtMs) || expiresAtMs < 1) throw invalidArgument('expiresAtMs must be a positive integer (milliseconds since the epoch)', { expiresAtMs })
    return { key: k, seq: 0, kind: Kind.PutTtl, expiresAtMs, value: v }
  }
  if (ttlMs === undefined) return { key: k, seq: 0, kind: Kind.Put, expiresAtMs: 0, value: v }
  if (!Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > C.ttlMsMax) {
    throw invalidArgument(`ttlMs must be a positive integer of at most ${C.ttlMsMax}`, { limit: C.ttlMsMax })
  }
  return { key: k, seq: 0, kind: Kind.PutTtl, expiresAtMs: clock.nowMs() + ttlMs, value: v }
}

export function delEntry(key: KeyLike): Entry {
  return { key: checkKey(key), seq: 0, kind: Kind.Del, expiresAtMs: 0, value: empty }
}

/** Every operation of a batch, checked before any is applied (a batch is all or nothing). */
export function batchEntries(ops: readonly BatchOp[], clock: Clock): Entry[] {
  if (!Array.isArray(ops)) throw invalidArgument('batch takes an array of operations')
  if (ops.length > C.batchOpsMax) throw invalidArgument(`a batch holds at most ${C.batchOpsMax} operations`, { limit: C.batchOpsMax })
  const entries: Entry[] = []
  let bytes = 0
  for (const op of ops) {
    if (op === null || typeof op !== 'object') throw invalidArgument('a batch operation must be an object')
    let e: Entry
    if (op.type === 'put') e = putEntry(op.key, op.value, op.ttlMs, clock, op.expiresAtMs)
    else if (op.type === 'del') e = delEntry(op.key)
    else throw invalidArgument(`unknown batch operation type '${String((op as { type: unknown }).type)}'`)
    bytes += e.key.length + e.value.length
    entries.push(e)
  }
  if (bytes > C.batchBytesMax) throw invalidArgument(`a batch holds at most ${C.batchBytesMax} bytes`, { limit: C.batchBytesMax })
  return entries
}
