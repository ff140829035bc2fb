// The mailbox envelope, version 1 (RUNTIME.md §2): a fixed 32-byte header in front of every
// ring record, written and read as eight 32-bit words through an Int32Array over the ring's
// data (records are 8-byte aligned). Also the ERROR payload encoding.

import os from 'node:os'
import { assert } from '../assert'
import { envelopeHeaderBytes } from '../constants'
import { ErrorCodes, KvError, type ErrorCode } from '../errors'

assert(os.endianness() === 'LE', 'the envelope is little-endian and written through typed arrays')

export const HEADER_BYTES = envelopeHeaderBytes
export const HEADER_WORDS = HEADER_BYTES >> 2
export const ENVELOPE_VERSION = 1

/** Word offsets of the header fields (within a record, in 32-bit words). */
export const H_LENGTH = 0
export const H_SEQ = 1
/** version (u8) | kind (u8) << 8 | flags (u16) << 16 */
export const H_VKF = 2
/** type (u16) | generation (u16) << 16 */
export const H_TYPE_GEN = 3
export const H_ACTOR = 4
export const H_REQUEST_ID = 5
export const H_FROM_ACTOR = 6
export const H_TIMEOUT_MS = 7

export const Kind = {
  PAD: 1,
  MESSAGE: 2,
  REQUEST: 3,
  RESPONSE: 4,
  ERROR: 5,
} as const
export type Kind = (typeof Kind)[keyof typeof Kind]

/** More fragments of this message follow (§2). */
export const FLAG_MORE = 1

export const typeMax = 0xffff
export const actorIdMax = 0xffffffff

export function align8(n: number): number {
  return (n + 7) & ~7
}

export function packVkf(kind: number, flags: number): number {
  return ENVELOPE_VERSION | (kind << 8) | (flags << 16)
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** ERROR payload: code, a zero byte, message (both UTF-8). */
export function encodeError(err: KvError): Uint8Array {
  const code = encoder.encode(err.code)
  const msg = encoder.encode(err.message.length > 4096 ? err.message.slice(0, 4096) : err.message)
  const out = new Uint8Array(code.length + 1 + msg.length)
  out.set(code, 0)
  out.set(msg, code.length + 1)
  return out
}

export function decodeError(bytes: Uint8Array, offset: number, length: number, details: Record<string, unknown>): KvError {
  const view = bytes.subarray(offset, offset + length)
  const zero = view.indexOf(0)
  const codeText = zero < 0 ? '' : decoder.decode(view.subarray(0, zero))
  const message = zero < 0 ? decoder.decode(view) : decoder.decode(view.subarray(zero + 1))
  const known = Object.prototype.hasOwnProperty.call(ErrorCodes, codeText)
  const code: ErrorCode = known ? (codeText as ErrorCode) : 'KV_UNAVAILABLE'
  return new KvError(code, known ? message : `malformed error response: ${message}`, { ...details, remote: true })
}
