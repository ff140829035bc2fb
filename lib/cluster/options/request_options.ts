// Validation of one client request (PROTOCOL.md §7): key, value, context, TTL, quorum and
// timeout, all before anything is sent. Failures are KV_INVALID_ARGUMENT.

import { invalidArgument } from '../../errors'
import { keyBytesMax, requestTimeoutMsMax, ttlMsMax, valueBytesMax } from '../../constants'
import { toBuffer } from '../../util/bytes'
import { resolveLevel } from '../coordinator/levels'
import { decodeContext } from '../versioning/causal_context'
import type { Context } from '../versioning/dvv_object'
import { checkKnownKeys, integerIn, optionsObject } from './check'
import { quorumArg } from './cluster_options'

/** Per-database settings a request is checked against. */
export interface RequestDefaults {
  readonly replicas: number
  readonly readQuorum: number
  readonly writeQuorum: number
  readonly timeoutMs: number
}

export interface SetRequest {
  readonly key: Buffer
  /** undefined for a delete. */
  readonly value: Buffer | undefined
  readonly context: Context | undefined
  readonly ttlMs: number | undefined
  readonly w: number
  readonly timeoutMs: number
}

export interface GetRequest {
  readonly key: Buffer
  readonly r: number
  readonly timeoutMs: number
}

export function checkKey(key: unknown): Buffer {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) throw invalidArgument('a key must be a string or bytes')
  const buf = toBuffer(key)
  if (buf.length === 0) throw invalidArgument('a key must not be empty')
  if (buf.length > keyBytesMax) throw invalidArgument(`a key must be at most ${keyBytesMax} bytes`, { bytes: buf.length, limit: keyBytesMax })
  return buf
}

export function checkValue(value: unknown): Buffer {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw invalidArgument('a value must be a string or bytes')
  const buf = toBuffer(value)
  if (buf.length > valueBytesMax) throw invalidArgument(`a value must be at most ${valueBytesMax} bytes`, { bytes: buf.length, limit: valueBytesMax })
  return buf
}

function quorum(o: Record<string, unknown>, name: 'r' | 'w', fallback: number, replicas: number): number {
  if (o[name] !== undefined && o['level'] !== undefined) throw invalidArgument(`give either ${name} or level, not both`)
  const v = o[name] ?? o['level']
  return v === undefined ? fallback : resolveLevel(quorumArg(v, name), replicas, name)
}

function timeout(o: Record<string, unknown>, d: RequestDefaults): number {
  return o['timeoutMs'] === undefined ? d.timeoutMs : integerIn(o['timeoutMs'], 1, requestTimeoutMsMax, 'timeoutMs')
}

function context(o: Record<string, unknown>, key: Buffer): Context | undefined {
  const c = o['context']
  if (c === undefined) return undefined
  if (typeof c !== 'string' && !(c instanceof Uint8Array)) throw invalidArgument('context must be the bytes or base64 string a get returned')
  return decodeContext(key, c)
}

export function checkSetRequest(key: unknown, value: unknown, options: unknown, d: RequestDefaults): SetRequest {
  if (options === undefined) {
    const k = checkKey(key)
    return { key: k, value: checkValue(value), context: undefined, ttlMs: undefined, w: d.writeQuorum, timeoutMs: d.timeoutMs }
  }
  const o = optionsObject(options, 'set')
  checkKnownKeys(o, ['context', 'ttlMs', 'w', 'level', 'timeoutMs'], 'set')
  const k = checkKey(key)
  const ttlMs = o['ttlMs'] === undefined ? undefined : integerIn(o['ttlMs'], 1, ttlMsMax, 'ttlMs')
  return { key: k, value: checkValue(value), context: context(o, k), ttlMs, w: quorum(o, 'w', d.writeQuorum, d.replicas), timeoutMs: timeout(o, d) }
}

export function checkDeleteRequest(key: unknown, options: unknown, d: RequestDefaults): SetRequest {
  const o = optionsObject(options, 'delete')
  checkKnownKeys(o, ['context', 'w', 'level', 'timeoutMs'], 'delete')
  const k = checkKey(key)
  return { key: k, value: undefined, context: context(o, k), ttlMs: undefined, w: quorum(o, 'w', d.writeQuorum, d.replicas), timeoutMs: timeout(o, d) }
}

export function checkGetRequest(key: unknown, options: unknown, d: RequestDefaults): GetRequest {
  if (options === undefined) return { key: checkKey(key), r: d.readQuorum, timeoutMs: d.timeoutMs }
  const o = optionsObject(options, 'get')
  checkKnownKeys(o, ['r', 'level', 'timeoutMs'], 'get')
  return { key: checkKey(key), r: quorum(o, 'r', d.readQuorum, d.replicas), timeoutMs: timeout(o, d) }
}
