// The three formats abstract-level hands to and expects from a private API (its README, "Private
// API For Implementors"): 'buffer', 'view' and 'utf8'. The engine takes strings and Uint8Arrays as
// they are and always returns Buffers; this module turns an engine Buffer into the format asked.

export type Format = 'buffer' | 'view' | 'utf8'

/** An engine Buffer (a fresh copy, safe to keep) as the format abstract-level asked for. */
export function fromEngine(buf: Buffer, format: string): Buffer | Uint8Array | string {
  if (format === 'utf8') return buf.toString('utf8')
  // 'view' must be a plain Uint8Array (abstract-level's tests compare prototypes); no copy.
  if (format === 'view') return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  return buf
}

/** A key abstract-level encoded (string, Buffer or Uint8Array) as a Buffer, without copying bytes. */
export function toEngineKey(key: string | Uint8Array): Buffer {
  if (typeof key === 'string') return Buffer.from(key, 'utf8')
  if (Buffer.isBuffer(key)) return key
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength)
}
