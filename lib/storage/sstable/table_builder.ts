// Writes one SSTable (FORMAT.md §3) as a stream of chunks to a sink: data blocks (§3.1), the
// bloom filter (§3.3), properties (§3.4), the index (§3.2) and the footer (§3.5).
// Invariants (asserted: a violation is a programmer error in the flush or compaction feeding
// us): entries arrive in FORMAT.md §1 order (key ascending, seq descending, no duplicate
// (key, seq)); all versions of a key land in one data block (a block is cut only before a new
// key, so it may exceed blockBytes); each chunk given to the sink is a fresh buffer the sink
// may keep.

import { assert, assertInteger } from '../../assert'
import { bloomBitsPerKeyMax, blockRestartInterval, keyBytesMax, sequenceMax, valueBytesMax } from '../../constants'
import { compareBytes } from '../../util/bytes'
import { BloomBuilder } from '../bloom/bloom_builder'
import { isKind, Kind } from '../types'
import { BlockBuilder } from './block_builder'
import { type BlockHandle, blockTrailerBytes, encodeHandle, sealBlock } from './block_format'
import { encodeFooter } from './footer'
import { encodeProperties, type TableProperties } from './table_properties'

export interface TableBuilderOptions {
  /** Target data block size (contents, before the trailer). */
  blockBytes: number
  /** 0 writes an empty filter. */
  bloomBitsPerKey: number
  /** Write every seq as 0 (bottom level, no snapshot needs them; FORMAT.md §3.1). */
  zeroSeqs: boolean
}

export interface TableBuildResult {
  /** Bytes given to the sink: the file's size. */
  size: number
  properties: TableProperties
}

export class TableBuilder {
  private readonly data: BlockBuilder
  private readonly index = new BlockBuilder(1)
  private readonly bloom: BloomBuilder
  private offset = 0
  private lastKey = Buffer.alloc(0)
  private lastSeq = -1
  private finished = false
  private readonly props: TableProperties = {
    entries: 0, keys: 0, tombstones: 0, rawKeyBytes: 0, rawValueBytes: 0,
    minSeq: 0, maxSeq: 0, smallest: Buffer.alloc(0), largest: Buffer.alloc(0), minExpiresAtMs: 0, ttlEntries: 0, ttlExpiryEighths: [],
  }
  /** Every PutTtl entry's expiresAtMs, for ttlExpiryEighths at finish. */
  private readonly expiries: number[] = []

  constructor(readonly options: TableBuilderOptions, private readonly sink: (chunk: Uint8Array) => void) {
    assertInteger(options.blockBytes, 1, 64 * 1024 * 1024, 'blockBytes')
    assertInteger(options.bloomBitsPerKey, 0, bloomBitsPerKeyMax, 'bloomBitsPerKey')
    this.bloom = new BloomBuilder(options.bloomBitsPerKey)
    this.data = new BlockBuilder(blockRestartInterval)
  }

  /** Bytes written so far plus the open data block: for cutting compaction output by size. */
  estimatedSize(): number {
    return this.offset + this.data.sizeEstimate()
  }

  get entries(): number {
    return this.props.entries
  }

  add(key: Uint8Array, seq: number, kind: Kind, expiresAtMs: number, value: Uint8Array): void {
    assert(!this.finished, 'TableBuilder.add after finish')
    assert(key.length <= keyBytesMax && value.length <= valueBytesMax, 'key or value too large')
    assertInteger(seq, 0, sequenceMax, 'seq')
    assert(isKind(kind), `unknown kind ${kind}`)
    assert(kind !== Kind.Del || value.length === 0, 'a tombstone has no value')
    const p = this.props
    let newKey = true
    if (p.entries > 0) {
      const c = compareBytes(key, this.lastKey)
      assert(c > 0 || (c === 0 && seq < this.lastSeq), `entries out of order at seq ${seq}: keys must ascend, seqs of one key descend`)
      newKey = c > 0
    }
    if (newKey) {
      if (this.data.entries > 0 && this.data.sizeEstimate() >= this.options.blockBytes) this.flushDataBlock()
      this.bloom.addKey(key)
      p.keys++
      this.lastKey = Buffer.from(key)
      if (p.entries === 0) p.smallest = this.lastKey
      p.largest = this.lastKey
    }
    const exp = kind === Kind.PutTtl ? expiresAtMs : 0
    if (kind === Kind.PutTtl) {
      assertInteger(expiresAtMs, 0, Number.MAX_SAFE_INTEGER, 'expiresAtMs')
      if (p.minExpiresAtMs === 0 || exp < p.minExpiresAtMs) p.minExpiresAtMs = exp
      this.expiries.push(exp)
      p.ttlEntries++
    }
    this.data.add(key, kind, this.options.zeroSeqs ? 0 : seq, exp, value)
    this.lastSeq = seq
    if (p.entries === 0 || seq < p.minSeq) p.minSeq = seq
    if (seq > p.maxSeq) p.maxSeq = seq
    p.entries++
    if (kind === Kind.Del) p.tombstones++
    p.rawKeyBytes += key.length
    p.rawValueBytes += value.length
  }

  /** Writes the filter, properties, index and footer; the builder is done afterwards. */
  finish(): TableBuildResult {
    assert(!this.finished, 'TableBuilder.finish twice')
    if (this.data.entries > 0) this.flushDataBlock()
    this.finished = true
    this.props.ttlExpiryEighths = expiryEighths(this.expiries)
    const filter = this.writeBlock(this.bloom.finish())
    const properties = this.writeBlock(encodeProperties(this.props))
    const index = this.writeBlock(this.index.finish())
    this.emit(encodeFooter({ filter, properties, index }))
    return { size: this.offset, properties: this.props }
  }

  private flushDataBlock(): void {
    const handle = this.writeBlock(this.data.finish())
    const h = Buffer.allocUnsafe(16)
    this.index.add(this.lastKey, Kind.Put, 0, 0, h.subarray(0, encodeHandle(h, 0, handle)))
    this.data.reset()
  }

  private writeBlock(contents: Uint8Array): BlockHandle {
    const handle = { offset: this.offset, size: contents.length }
    this.emit(sealBlock(contents))
    assert(this.offset === handle.offset + handle.size + blockTrailerBytes, 'block accounting')
    return handle
  }

  private emit(chunk: Buffer): void {
    this.offset += chunk.length
    this.sink(chunk)
  }
}

/** e[ceil(j × n / 8)] for j = 1..8 of the sorted times (FORMAT.md §3.4); [] for none. */
export function expiryEighths(times: number[]): number[] {
  if (times.length === 0) return []
  times.sort((a, b) => a - b)
  const n = times.length
  return Array.from({ length: 8 }, (_, i) => times[Math.ceil(((i + 1) * n) / 8) - 1]!)
}
