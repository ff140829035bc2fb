// Replica batches (PROTOCOL.md §9.7): many §9.2 vnode requests to one node in one BATCH
// message, and their answers in one response. Requests are built from parallel arrays (the
// outbox's, no object per item); both directions are read with a reusable cursor that
// allocates nothing per item. Malformed input is KV_CORRUPTION; an unknown version
// KV_UNSUPPORTED_VERSION.

import { KvError } from '../../errors'
import { readVarint, varintEnd, varintLength, writeVarint } from '../../util/varint'
import { checkVersion } from './replica_wire'
import { VnodeType, wireVersion } from './actors'

/** Item answer status (§9.7). RETRY_ALONE: the answer did not fit this batch's; send the request by itself. */
export const ItemStatus = { OK: 0, ERROR: 1, RETRY_ALONE: 2 } as const

function fail(what: string): never {
  throw new KvError('KV_CORRUPTION', `malformed ${what}`)
}

/**
 * The items of one batch request, as parallel arrays. An item is either keyed (READ,
 * REPLICATE: its payload is built here from hintFor, key and object, the §9.2 layout) or raw
 * (its whole §9.2 payload given, e.g. an encoded WRITE).
 */
export class BatchItems {
  readonly types: number[] = []
  readonly partitions: number[] = []
  readonly hintFors: number[] = []
  readonly keys: (Buffer | undefined)[] = []
  /** Keyed: the object (undefined for READ). Raw: the whole payload. */
  readonly bodies: (Uint8Array | undefined)[] = []
  /** Encoded bytes of the whole request so far. */
  bytes = 1 + 4

  get count(): number {
    return this.types.length
  }

  /** Bytes `addKeyed` would add. */
  static keyedBytes(partition: number, hintFor: number, key: Buffer, object: Uint8Array | undefined): number {
    const payload = 1 + varintLength(hintFor) + varintLength(key.length) + key.length + (object?.length ?? 0)
    return 1 + varintLength(partition) + varintLength(payload) + payload
  }

  static rawBytes(partition: number, payload: Uint8Array): number {
    return 1 + varintLength(partition) + varintLength(payload.length) + payload.length
  }

  addKeyed(type: number, partition: number, hintFor: number, key: Buffer, object: Uint8Array | undefined): void {
    this.push(type, partition, hintFor, key, object)
    this.bytes += BatchItems.keyedBytes(partition, hintFor, key, object)
  }

  addRaw(type: number, partition: number, payload: Uint8Array): void {
    this.push(type, partition, -1, undefined, payload)
    this.bytes += BatchItems.rawBytes(partition, payload)
  }

  /** Item `i` of `from`, added here (to send it again by itself). */
  addFrom(from: BatchItems, i: number): void {
    const key = from.keys[i]
    if (key === undefined) this.addRaw(from.types[i]!, from.partitions[i]!, from.bodies[i]!)
    else this.addKeyed(from.types[i]!, from.partitions[i]!, from.hintFors[i]!, key, from.bodies[i])
  }

  private push(type: number, partition: number, hintFor: number, key: Buffer | undefined, body: Uint8Array | undefined): void {
    this.types.push(type)
    this.partitions.push(partition)
    this.hintFors.push(hintFor)
    this.keys.push(key)
    this.bodies.push(body)
  }

  /** The BATCH request payload. */
  encode(): Buffer {
    const n = this.count
    const out = Buffer.allocUnsafe(this.bytes)
    out[0] = wireVersion
    let o = writeVarint(out, 1, n)
    for (let i = 0; i < n; i++) {
      out[o++] = this.types[i]!
      o = writeVarint(out, o, this.partitions[i]!)
      const key = this.keys[i]
      const body = this.bodies[i]
      if (key === undefined) {
        o = writeVarint(out, o, body!.length)
        out.set(body!, o)
        o += body!.length
        continue
      }
      const hintFor = this.hintFors[i]!
      o = writeVarint(out, o, 1 + varintLength(hintFor) + varintLength(key.length) + key.length + (body?.length ?? 0))
      out[o++] = wireVersion
      o = writeVarint(out, o, hintFor)
      o = writeVarint(out, o, key.length)
      o += key.copy(out, o)
      if (body !== undefined) {
        out.set(body, o)
        o += body.length
      }
    }
    return out.subarray(0, o)
  }
}

/**
 * Reads a BATCH request (`item` = type and partition) or response (`item` = status) one item at
 * a time; the item's payload is buf[start, end). Reuse one reader per thread.
 */
export class BatchReader {
  buf: Buffer = Buffer.alloc(0)
  count = 0
  /** Request: the item's vnode message type; response: its status. */
  kind = 0
  partition = 0
  start = 0
  end = 0
  private pos = 0
  private index = 0
  private request = false

  /** Starts reading `buf` (a request if `request`, else a response); returns the item count. */
  reset(buf: Buffer, request: boolean): number {
    checkVersion(buf, 'batch')
    this.buf = buf
    this.request = request
    this.count = readVarint(buf, 1)
    this.pos = varintEnd.offset
    this.index = 0
    return this.count
  }

  /** Moves to the next item; false after the last (and then the batch must be fully read). */
  next(): boolean {
    const buf = this.buf
    if (this.index === this.count) {
      if (this.pos !== buf.length) fail('batch: bytes after the last item')
      return false
    }
    this.index++
    if (this.pos >= buf.length) fail('batch: fewer items than its count')
    this.kind = buf[this.pos++]!
    if (this.request) {
      this.partition = readVarint(buf, this.pos)
      this.pos = varintEnd.offset
    } else if (this.kind !== ItemStatus.OK && this.kind !== ItemStatus.ERROR && this.kind !== ItemStatus.RETRY_ALONE) fail(`batch: unknown item status ${this.kind}`)
    const length = readVarint(buf, this.pos)
    this.start = varintEnd.offset
    this.end = this.start + length
    if (this.end > buf.length) fail('batch: an item runs past the end')
    this.pos = this.end
    return true
  }

  /** The item's payload as a view (valid while `buf` is). */
  payload(): Buffer {
    return this.buf.subarray(this.start, this.end)
  }
}

/** Item types a batch may carry (§9.7). */
export function isBatchItemType(type: number): boolean {
  return type === VnodeType.READ || type === VnodeType.WRITE || type === VnodeType.REPLICATE
}

const empty = new Uint8Array(0)
/** Internal status of an item set by setObject (written as OK). */
const objectAnswer = 0xff

/**
 * Builds a BATCH response; each item is set once, in any order. Past `bytesMax` (and when the
 * batch has more than one item) the answer of a repeatable request is replaced by RETRY_ALONE:
 * the requester sends that request again by itself, whose answer is then never refused.
 */
export class BatchReplyWriter {
  private readonly statuses: number[] = []
  private readonly payloads: Uint8Array[] = []
  private bytes = 1 + 4

  constructor(
    readonly count: number,
    private readonly bytesMax = Infinity,
  ) {
    this.statuses.length = count
    this.payloads.length = count
  }

  private fits(itemBytes: number): boolean {
    return this.count === 1 || this.bytes + itemBytes <= this.bytesMax
  }

  /**
   * `repeatable`: sending the request again is harmless (READ, REPLICATE: an idempotent
   * merge). A WRITE's answer is never refused: sent again, the write would be applied twice.
   */
  set(index: number, status: number, payload: Uint8Array, repeatable = true): void {
    const itemBytes = 1 + varintLength(payload.length) + payload.length
    if (repeatable && status !== ItemStatus.RETRY_ALONE && !this.fits(itemBytes)) return this.set(index, ItemStatus.RETRY_ALONE, empty)
    this.statuses[index] = status
    this.payloads[index] = payload
    this.bytes += itemBytes
  }

  /** A READ's answer without building its §9.2 payload first: `u8 1, object (empty: none)`. */
  setObject(index: number, object: Uint8Array | undefined): void {
    const body = object ?? empty
    const itemBytes = 1 + varintLength(1 + body.length) + 1 + body.length
    if (!this.fits(itemBytes)) return this.set(index, ItemStatus.RETRY_ALONE, empty)
    this.statuses[index] = objectAnswer
    this.payloads[index] = body
    this.bytes += itemBytes
  }

  encode(): Buffer {
    const out = Buffer.allocUnsafe(this.bytes)
    out[0] = wireVersion
    let o = writeVarint(out, 1, this.count)
    for (let i = 0; i < this.count; i++) {
      const p = this.payloads[i]!
      const status = this.statuses[i]!
      if (status === objectAnswer) {
        out[o++] = ItemStatus.OK
        o = writeVarint(out, o, 1 + p.length)
        out[o++] = wireVersion
      } else {
        out[o++] = status
        o = writeVarint(out, o, p.length)
      }
      out.set(p, o)
      o += p.length
    }
    return out.subarray(0, o)
  }
}
