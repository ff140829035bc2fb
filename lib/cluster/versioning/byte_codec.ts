// A bounds-checked reader over a byte buffer for the cluster encodings (§4.2, §4.4, §6.1).
// Every failure goes through `fail`, so a stored record reports KV_CORRUPTION and a client
// context reports KV_INVALID_ARGUMENT with the same parsing code.

import { KvError, type ErrorCode } from '../../errors'
import { readU32 } from '../../util/bytes'
import { readVarint, varintEnd, varintLength, writeVarint } from '../../util/varint'

export class CodecReader {
  offset = 0

  constructor(
    readonly buf: Uint8Array,
    private readonly what: string,
    private readonly code: ErrorCode,
  ) {}

  fail(message: string): never {
    throw new KvError(this.code, `${this.what}: ${message}`, { offset: this.offset })
  }

  u8(): number {
    if (this.offset >= this.buf.length) this.fail('truncated')
    return this.buf[this.offset++]!
  }

  u32(): number {
    if (this.offset + 4 > this.buf.length) this.fail('truncated')
    const v = readU32(this.buf, this.offset)
    this.offset += 4
    return v
  }

  varint(): number {
    try {
      const v = readVarint(this.buf, this.offset, this.buf.length)
      this.offset = varintEnd.offset
      return v
    } catch (err) {
      if (err instanceof KvError) this.fail('bad varint')
      throw err
    }
  }

  bytes(n: number): Buffer {
    if (n > this.buf.length - this.offset) this.fail('truncated')
    const b = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.offset, n)
    this.offset += n
    return b
  }

  end(): void {
    if (this.offset !== this.buf.length) this.fail(`${this.buf.length - this.offset} trailing bytes`)
  }
}

/** A growable writer; `finish()` returns exactly the written bytes. */
export class CodecWriter {
  private buf: Buffer
  offset = 0

  constructor(initial = 64) {
    this.buf = Buffer.allocUnsafe(initial)
  }

  private room(n: number): void {
    if (this.offset + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.offset + n))
    this.buf.copy(next, 0, 0, this.offset)
    this.buf = next
  }

  u8(v: number): void {
    this.room(1)
    this.buf[this.offset++] = v
  }

  u32(v: number): void {
    this.room(4)
    this.buf.writeUInt32LE(v >>> 0, this.offset)
    this.offset += 4
  }

  varint(v: number): void {
    this.room(varintLength(v))
    this.offset = writeVarint(this.buf, this.offset, v)
  }

  bytes(b: Uint8Array): void {
    this.room(b.length)
    this.buf.set(b, this.offset)
    this.offset += b.length
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.offset)
  }
}
