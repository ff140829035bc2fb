// Reads one SSTable (FORMAT.md §3) through a RandomAccessFile (mmap or pread).
// At open: the footer (§3.5), then the filter, properties and index blocks, each crc-verified,
// and the check that the blocks tile the file. The index is decoded into flat arrays
// (table_index.ts). Data blocks are crc-verified the first time this reader reads them (a
// bitset remembers which); a mismatch is KV_CORRUPTION naming the file and block offset.
// Invariants: every read asserts the reader is open (a view into a closed table's mapping is
// still memory-safe, lib/storage/mmap/README.md, but using one is a lifetime bug in the
// caller); get() returns a reused result object valid until the next get().

import { assert } from '../../assert'
import { corruption } from '../../errors'
import { BloomReader } from '../bloom/bloom_reader'
import type { InternalIterator, RandomAccessFile } from '../types'
import { type BlockHandle, blockTrailerBytes, verifyBlock } from './block_format'
import { findInBlock, TableGetResult } from './block_get'
import { decodeFooter, type Footer, footerBytes } from './footer'
import { TableIndex } from './table_index'
import { TableIterator } from './table_iterator'
import { decodeProperties, type TableProperties } from './table_properties'

/** A RandomAccessFile that can hand out the whole file as one Buffer (MmapFile). */
interface WholeFile extends RandomAccessFile {
  readonly mapping: Buffer
}

export interface TableReaderStats {
  /** Lookups the bloom filter was asked about. */
  bloomChecked: number
  /** Lookups the bloom filter answered "certainly not here" (a data block read saved). */
  bloomUseful: number
  /** Data blocks read from the file (mmap: touched) by get and iterators. */
  blockReads: number
  /** Data blocks whose crc this reader has verified (each at most once). */
  blocksVerified: number
}

export class TableReader {
  readonly path: string
  readonly size: number
  readonly stats: TableReaderStats = { bloomChecked: 0, bloomUseful: 0, blockReads: 0, blocksVerified: 0 }
  private file: RandomAccessFile
  private mapping: Buffer | undefined
  private closed = false
  private readonly verified: Uint8Array
  private readonly result = new TableGetResult()
  /** Set by loadBlock: the buffer holding the block's contents, and where they start in it. */
  blockBuf: Buffer = Buffer.alloc(0)
  blockStart = 0

  private constructor(
    file: RandomAccessFile,
    readonly footer: Footer,
    readonly index: TableIndex,
    readonly properties: TableProperties,
    private readonly filter: BloomReader | undefined,
  ) {
    this.file = file
    this.path = file.path
    this.size = file.size
    const m = (file as Partial<WholeFile>).mapping
    this.mapping = m !== undefined && m.length === file.size ? m : undefined
    this.verified = new Uint8Array(Math.ceil(index.count / 8))
  }

  /** Opens a table; on any error the file is closed. The reader owns `file` afterwards. */
  static open(file: RandomAccessFile): TableReader {
    try {
      return TableReader.openUnguarded(file)
    } catch (err) {
      file.close()
      throw err
    }
  }

  private static openUnguarded(file: RandomAccessFile): TableReader {
    const name = file.path
    if (file.size < footerBytes) throw corruption(`${name}: too short to be an SSTable (${file.size} bytes)`, { file: name, offset: 0 })
    const footerAt = file.size - footerBytes
    const footer = decodeFooter(file.read(footerAt, footerBytes), name, footerAt)
    const { filter, properties, index } = footer
    const tiles =
      filter.offset + filter.size + blockTrailerBytes === properties.offset &&
      properties.offset + properties.size + blockTrailerBytes === index.offset &&
      index.offset + index.size + blockTrailerBytes === footerAt
    if (!tiles) throw corruption(`${name}: footer block handles do not tile the file`, { file: name, offset: footerAt })
    const read = (h: BlockHandle): Buffer => {
      const b = file.read(h.offset, h.size + blockTrailerBytes)
      verifyBlock(b, 0, h.size, name, h.offset)
      return b
    }
    const tableIndex = TableIndex.decode(read(index), 0, index.size, filter.offset, name, index.offset)
    const filterBytes = read(filter).subarray(0, filter.size)
    const bloom = filter.size === 0 ? undefined : new BloomReader(filterBytes, { file: name, offset: filter.offset })
    const props = decodeProperties(read(properties), 0, properties.size, name, properties.offset)
    return new TableReader(file, footer, tableIndex, props, bloom)
  }

  /**
   * The newest version of `key` with seq <= snapshotSeq, tombstones and expired entries included
   * (the engine decides visibility), or undefined. The result is reused: valid until the next get().
   */
  get(key: Uint8Array, snapshotSeq: number): TableGetResult | undefined {
    assert(!this.closed, 'TableReader used after close')
    if (this.filter !== undefined) {
      this.stats.bloomChecked++
      if (!this.filter.mayContain(key)) {
        this.stats.bloomUseful++
        return undefined
      }
    }
    const i = this.index.find(key)
    if (i >= this.index.count) return undefined
    this.loadBlock(i)
    const found = findInBlock(this.blockBuf, this.blockStart, this.index.sizes[i]!, key, snapshotSeq, this.result, this.path, this.index.offsets[i]!)
    return found ? this.result : undefined
  }

  /** Forward: key asc, seq desc. Reverse: key desc, seq asc. Seek semantics as in types.ts. */
  iterator(reverse: boolean): InternalIterator {
    assert(!this.closed, 'TableReader used after close')
    return new TableIterator(this, reverse)
  }

  /** File offset where the data for `key` would start: for splitting key ranges by size. */
  approximateOffsetOf(key: Uint8Array): number {
    assert(!this.closed, 'TableReader used after close')
    const i = this.index.find(key)
    return i < this.index.count ? this.index.offsets[i]! : this.footer.filter.offset
  }

  /** Makes data block i available in blockBuf/blockStart, verifying its crc the first time. */
  loadBlock(i: number): void {
    assert(!this.closed, 'TableReader used after close')
    const offset = this.index.offsets[i]!
    const size = this.index.sizes[i]!
    this.stats.blockReads++
    if (this.mapping !== undefined) {
      this.blockBuf = this.mapping
      this.blockStart = offset
    } else {
      this.blockBuf = this.file.read(offset, size + blockTrailerBytes)
      this.blockStart = 0
    }
    const bit = 1 << (i & 7)
    if ((this.verified[i >>> 3]! & bit) === 0) {
      verifyBlock(this.blockBuf, this.blockStart, size, this.path, offset)
      this.verified[i >>> 3]! |= bit
      this.stats.blocksVerified++
    }
  }

  isClosed(): boolean {
    return this.closed
  }

  assertOpen(): void {
    assert(!this.closed, 'TableReader used after close')
  }

  /** Releases the file. Views handed out earlier stay memory-safe but must no longer be used. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.mapping = undefined
    this.blockBuf = Buffer.alloc(0)
    this.file.close()
  }
}
