// The mailbox envelope, version 1 (RUNTIME.md §2): a fixed 32-byte header in front of every
// ring record, written and read as eight 32-bit words through an Int32Array over the ring's
// data (records are 8-byte aligned). The ERROR payload is lib/errors.ts's encodeErrorPayload.

import os from 'node:os'
import { assert } from '../assert'
import { envelopeHeaderBytes } from '../constants'
import { decodeErrorPayload as decodeError, encodeErrorPayload as encodeError } from '../errors'

export { decodeError, encodeError }

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

