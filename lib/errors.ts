// Every expected failure in Ringwood is a KvError with a stable code. The codes are listed
// here once, and the README's "Error codes" table documents each one. Tests assert codes,
// never messages. Programmer errors are assertions (lib/assert.ts), not KvErrors.

export const ErrorCodes = {
  /** The key does not exist (only where an API reports absence as an error). */
  KV_NOT_FOUND: 'KV_NOT_FOUND',
  /** Stored bytes failed a checksum or a structural check; the message names file and offset. */
  KV_CORRUPTION: 'KV_CORRUPTION',
  /** An argument is out of range or malformed; nothing was written. */
  KV_INVALID_ARGUMENT: 'KV_INVALID_ARGUMENT',
  /** Too few live replicas or nodes to attempt the request. */
  KV_UNAVAILABLE: 'KV_UNAVAILABLE',
  /** The request did not complete before its deadline; a write may still have been applied. */
  KV_TIMEOUT: 'KV_TIMEOUT',
  /** A queue or ring is full and the caller asked to fail fast; retry later. */
  KV_OVERLOADED: 'KV_OVERLOADED',
  /** The database, engine or runtime is closed (or closing). */
  KV_CLOSED: 'KV_CLOSED',
  /** Another process or engine holds the data directory's lock. */
  KV_LOCKED: 'KV_LOCKED',
  /** A write or sync failed (disk full, EIO); the engine refuses writes until reopened. */
  KV_IO_ERROR: 'KV_IO_ERROR',
  /** A client write would exceed the sibling cap for its key. */
  KV_TOO_MANY_SIBLINGS: 'KV_TOO_MANY_SIBLINGS',
  /** A file or message carries a format version this build does not understand. */
  KV_UNSUPPORTED_VERSION: 'KV_UNSUPPORTED_VERSION',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

/** Codes for which retrying the same request later can succeed. */
const retryable: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'KV_UNAVAILABLE',
  'KV_TIMEOUT',
  'KV_OVERLOADED',
])

export class KvError extends Error {
  readonly code: ErrorCode
  /** Extra machine-readable facts (file, offset, acks, limit...). */
  readonly details: Readonly<Record<string, unknown>>

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'KvError'
    this.code = code
    this.details = details
  }

  get retryable(): boolean {
    return retryable.has(this.code)
  }
}

export function isKvError(err: unknown, code?: ErrorCode): err is KvError {
  return err instanceof KvError && (code === undefined || err.code === code)
}

export function invalidArgument(message: string, details: Record<string, unknown> = {}): KvError {
  return new KvError('KV_INVALID_ARGUMENT', message, details)
}

export function corruption(message: string, details: { file?: string; offset?: number } & Record<string, unknown> = {}): KvError {
  return new KvError('KV_CORRUPTION', message, details)
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * An error as bytes (the runtime's ERROR record, a replica batch item): code, a zero byte,
 * message (both UTF-8; the message cut at 4096 characters). An unknown code decodes as
 * KV_UNAVAILABLE with a message that says so.
 */
export function encodeErrorPayload(err: KvError): Uint8Array {
  const code = encoder.encode(err.code)
  const msg = encoder.encode(err.message.length > 4096 ? err.message.slice(0, 4096) : err.message)
  const out = new Uint8Array(code.length + 1 + msg.length)
  out.set(code, 0)
  out.set(msg, code.length + 1)
  return out
}

export function decodeErrorPayload(bytes: Uint8Array, offset: number, length: number, details: Record<string, unknown>): KvError {
  const view = bytes.subarray(offset, offset + length)
  const zero = view.indexOf(0)
  const codeText = zero < 0 ? '' : decoder.decode(view.subarray(0, zero))
  const message = zero < 0 ? decoder.decode(view) : decoder.decode(view.subarray(zero + 1))
  const known = Object.prototype.hasOwnProperty.call(ErrorCodes, codeText)
  const code: ErrorCode = known ? (codeText as ErrorCode) : 'KV_UNAVAILABLE'
  return new KvError(code, known ? message : `malformed error response: ${message}`, { ...details, remote: true })
}
