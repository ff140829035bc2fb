// Commit log record framing and write-group payloads: FORMAT.md §2 (the manifest, §4, reuses
// the framing with its own payload). Pure byte functions; no I/O.
//
//   record  := crc:u32  length:u32  magic:u8 (= 0xB7)  payload:length bytes
//   crc     := checksum(magic || payload)
//   payload := version:u8 (= 1)  firstSeq:u64  count:u32  entry{count}
//   entry   := kind:u8  keyLength:varint  key  [expiresAtMs:u64 if kind = 2]
//              [valueLength:varint  value   if kind != 0]
//
// Invariants: a framed record's crc is computed over exactly the bytes the reader checks
// (`recordPayloadLength` verifies what `sealRecord` writes); a decoded payload must end exactly
// at its last entry, or it is KV_CORRUPTION.

import { assert } from '../../assert'
import { logRecordBytesMax } from '../../constants'
import { corruption, KvError } from '../../errors'
import { readU32, readU64, writeU32, writeU64 } from '../../util/bytes'
import { checksum } from '../../util/crc32c'
import { readVarint, varintEnd, varintLength, writeVarint } from '../../util/varint'
import { isKind, Kind, type Entry } from '../types'

export const recordMagic = 0xb7
/** crc:u32 length:u32 magic:u8 */
export const recordHeaderBytes = 9
export const logPayloadVersion = 1
/** version:u8 firstSeq:u64 count:u32 */
export const groupHeaderBytes = 13

const empty: Buffer = Buffer.alloc(0)

// ---- Entries ----

/** Encoded size of one entry (FORMAT.md §2 `entry`). */
export function entryEncodedBytes(kind: Kind, keyLength: number, valueLength: number): number {
  let n = 1 + varintLength(keyLength) + keyLength
  if (kind === Kind.PutTtl) n += 8
  if (kind !== Kind.Del) n += varintLength(valueLength) + valueLength
  return n
}

/** Writes one entry at `off` (the caller has made room); returns the offset after it. */
export function encodeEntry(buf: Buffer, off: number, kind: Kind, key: Uint8Array, expiresAtMs: number, value: Uint8Array): number {
  buf[off++] = kind
  off = writeVarint(buf, off, key.length)
  buf.set(key, off)
  off += key.length
  if (kind === Kind.PutTtl) off = writeU64(buf, off, expiresAtMs)
  if (kind !== Kind.Del) {
    off = writeVarint(buf, off, value.length)
    buf.set(value, off)
    off += value.length
  }
  return off
}

/**
 * A growing scratch buffer of encoded entries, so that the engine encodes a batch once and hands
 * the bytes to `LogWriter.append` (which copies them into its group buffer). Reuse it with reset().
 */
export class EntryEncoder {
  buf: Buffer
  length = 0
  count = 0

  constructor(initialBytes = 4096) {
    this.buf = Buffer.allocUnsafe(initialBytes)
  }

  add(kind: Kind, key: Uint8Array, expiresAtMs: number, value: Uint8Array): void {
    const need = entryEncodedBytes(kind, key.length, value.length)
    if (this.length + need > this.buf.length) this.grow(this.length + need)
    this.length = encodeEntry(this.buf, this.length, kind, key, expiresAtMs, value)
    this.count++
  }

  /** The encoded entries: a view, valid until the next add() or reset(). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.length)
  }

  reset(): void {
    this.length = 0
    this.count = 0
  }

  private grow(min: number): void {
    const next = Buffer.allocUnsafe(Math.max(min, this.buf.length * 2))
    this.buf.copy(next, 0, 0, this.length)
    this.buf = next
  }
}

// ---- Payloads and records ----

export function writeGroupHeader(buf: Buffer, off: number, firstSeq: number, count: number): number {
  buf[off] = logPayloadVersion
  writeU64(buf, off + 1, firstSeq)
  writeU32(buf, off + 9, count)
  return off + groupHeaderBytes
}

/** A write group's payload: its entries take sequence numbers firstSeq, firstSeq + 1, ... */
export function encodeGroupPayload(firstSeq: number, entries: readonly Entry[]): Buffer {
  let size = groupHeaderBytes
  for (const e of entries) size += entryEncodedBytes(e.kind, e.key.length, e.value.length)
  const buf = Buffer.allocUnsafe(size)
  let off = writeGroupHeader(buf, 0, firstSeq, entries.length)
  for (const e of entries) off = encodeEntry(buf, off, e.kind, e.key, e.expiresAtMs, e.value)
  assert(off === size, 'group payload size mismatch')
  return buf
}

/**
 * Fills in the header of a record whose payload (`payloadLength` bytes) is already in place at
 * `start + recordHeaderBytes`: length, magic, then the crc over magic || payload.
 */
export function sealRecord(buf: Buffer, start: number, payloadLength: number): void {
  assert(payloadLength <= logRecordBytesMax, `log record of ${payloadLength} bytes exceeds logRecordBytesMax`)
  writeU32(buf, start + 4, payloadLength)
  buf[start + 8] = recordMagic
  writeU32(buf, start, checksum(buf.subarray(start + 8, start + recordHeaderBytes + payloadLength)))
}

/** FORMAT.md §2 framing of any payload (commit log groups, manifest edits). */
export function frameRecord(payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(recordHeaderBytes + payload.length)
  buf.set(payload, recordHeaderBytes)
  sealRecord(buf, 0, payload.length)
  return buf
}

/**
 * If a good record (FORMAT.md §2 "Recovery") starts at `offset`, its payload length; else -1.
 */
export function recordPayloadLength(buf: Uint8Array, offset: number, recordBytesMax = logRecordBytesMax): number {
  if (offset + recordHeaderBytes > buf.length) return -1
  if (buf[offset + 8] !== recordMagic) return -1
  const len = readU32(buf, offset + 4)
  if (len > recordBytesMax || offset + recordHeaderBytes + len > buf.length) return -1
  const crc = readU32(buf, offset)
  const view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  return checksum(view.subarray(offset + 8, offset + recordHeaderBytes + len)) === crc ? len : -1
}

export type ScanItem =
  /** A good record at [offset, end); `payload` is a view into the scanned buffer. */
  | { type: 'record'; offset: number; end: number; payload: Buffer }
  /**
   * Bytes [offset, end) hold no good record. `resumes`: a good record starts at `end`
   * (damage in the middle); otherwise `end` is the end of the buffer (a torn tail, or damage
   * that runs to the end of the file).
   */
  | { type: 'damage'; offset: number; end: number; resumes: boolean }

/**
 * Walks the records of `buf` from offset 0. At a bad record at X it scans forward from X + 1
 * for the next good record (FORMAT.md §2), reports the damage and resumes there. Policy (torn
 * tail vs. corruption vs. repair) is the caller's: the log reader and the manifest differ.
 */
export function* scanRecords(buf: Buffer, recordBytesMax = logRecordBytesMax): Generator<ScanItem> {
  let off = 0
  while (off < buf.length) {
    const len = recordPayloadLength(buf, off, recordBytesMax)
    if (len >= 0) {
      const end = off + recordHeaderBytes + len
      yield { type: 'record', offset: off, end, payload: buf.subarray(off + recordHeaderBytes, end) }
      off = end
      continue
    }
    let y = off + 1
    for (; y < buf.length; y++) {
      if (buf[y + 8] === recordMagic && recordPayloadLength(buf, y, recordBytesMax) >= 0) break
    }
    const resumes = y < buf.length
    yield { type: 'damage', offset: off, end: resumes ? y : buf.length, resumes }
    off = y
  }
}

// ---- Decoding a write group ----

export interface WriteGroup {
  /** Offset of the record in its segment. */
  offset: number
  firstSeq: number
  /** Entry i has seq firstSeq + i. Keys and values are views into the segment's buffer. */
  entries: Entry[]
}

/** Decodes a commit log payload. `file`/`offset` name the record in errors. */
export function decodeGroup(payload: Buffer, file: string, offset: number): WriteGroup {
  if (payload.length < 1) throw corruption(`empty commit log payload in ${file} at offset ${offset}`, { file, offset })
  if (payload[0] !== logPayloadVersion) {
    throw new KvError('KV_UNSUPPORTED_VERSION', `commit log record version ${payload[0]} in ${file} at offset ${offset}; this build reads version ${logPayloadVersion}`, { file, offset, version: payload[0] })
  }
  const bad = (why: string): KvError => corruption(`malformed commit log record in ${file} at offset ${offset}: ${why}`, { file, offset })
  if (payload.length < groupHeaderBytes) throw bad('payload shorter than its header')
  const firstSeq = readU64(payload, 1)
  const count = readU32(payload, 9)
  if (firstSeq < 0 || firstSeq + count > Number.MAX_SAFE_INTEGER) throw bad('sequence number out of range')
  const end = payload.length
  const entries: Entry[] = []
  let off = groupHeaderBytes
  try {
    for (let i = 0; i < count; i++) {
      if (off >= end) throw bad(`entry ${i} of ${count} missing`)
      const kind = payload[off++]!
      if (!isKind(kind)) throw bad(`entry ${i} has unknown kind ${kind}`)
      const keyLength = readVarint(payload, off, end)
      off = varintEnd.offset
      if (off + keyLength > end) throw bad(`entry ${i} key runs past the payload`)
      const key = payload.subarray(off, off + keyLength)
      off += keyLength
      let expiresAtMs = 0
      if (kind === Kind.PutTtl) {
        if (off + 8 > end) throw bad(`entry ${i} expiry runs past the payload`)
        expiresAtMs = readU64(payload, off)
        if (expiresAtMs < 0) throw bad(`entry ${i} expiry out of range`)
        off += 8
      }
      let value = empty
      if (kind !== Kind.Del) {
        const valueLength = readVarint(payload, off, end)
        off = varintEnd.offset
        if (off + valueLength > end) throw bad(`entry ${i} value runs past the payload`)
        value = payload.subarray(off, off + valueLength)
        off += valueLength
      }
      entries.push({ key, seq: firstSeq + i, kind, expiresAtMs, value })
    }
  } catch (err) {
    if (err instanceof KvError && err.code === 'KV_CORRUPTION' && err.details['file'] === undefined) throw bad(err.message)
    throw err
  }
  if (off !== end) throw bad(`${end - off} trailing bytes after ${count} entries`)
  return { offset, firstSeq, entries }
}
