// The InternalIterator of one SSTable (types.ts): a two-level iterator over the in-memory
// index and one data block at a time (block_iterator.ts), forward or reverse.
// Invariants: valid() implies the current block iterator is valid; every move reads through
// TableReader.loadBlock, which asserts the table is open and verifies crc on first read.

import { assert } from '../../assert'
import type { InternalIterator, Kind } from '../types'
import { BlockIterator } from './block_iterator'
import type { TableReader } from './table_reader'

export class TableIterator implements InternalIterator {
  private readonly block: BlockIterator
  private bi = -1
  private closed = false

  constructor(private readonly table: TableReader, readonly reverse: boolean) {
    this.block = new BlockIterator(reverse)
  }

  seekToStart(): void {
    this.check()
    this.bi = this.reverse ? this.table.index.count : -1
    this.advanceBlock()
  }

  seek(target: Buffer): void {
    this.check()
    const count = this.table.index.count
    const i = this.table.index.find(target)
    if (!this.reverse) {
      if (i >= count) return void (this.bi = count)
      this.load(i)
      this.block.seek(target)
      if (!this.block.valid()) this.advanceBlock()
      return
    }
    if (i >= count) {
      this.bi = count
      return this.advanceBlock()
    }
    this.load(i)
    this.block.seek(target)
    if (!this.block.valid()) this.advanceBlock()
  }

  valid(): boolean {
    return this.bi >= 0 && this.bi < this.table.index.count && this.block.valid()
  }

  next(): void {
    assert(this.valid(), 'next() on an invalid iterator')
    this.check()
    this.block.next()
    if (!this.block.valid()) this.advanceBlock()
  }

  key(): Buffer {
    this.check()
    return this.block.key()
  }
  seq(): number {
    return this.block.seq()
  }
  kind(): Kind {
    return this.block.kind()
  }
  expiresAtMs(): number {
    return this.block.expiresAtMs()
  }
  value(): Buffer {
    this.check()
    return this.block.value()
  }

  close(): void {
    this.closed = true
    this.bi = -1
  }

  /** Moves to the first entry of the next block in this direction that has one. */
  private advanceBlock(): void {
    const count = this.table.index.count
    for (;;) {
      this.bi += this.reverse ? -1 : 1
      if (this.bi < 0 || this.bi >= count) return
      this.load(this.bi)
      this.block.seekToStart()
      if (this.block.valid()) return
    }
  }

  private load(i: number): void {
    this.bi = i
    this.table.loadBlock(i)
    this.block.reset(this.table.blockBuf, this.table.blockStart, this.table.index.sizes[i]!, this.table.path, this.table.index.offsets[i]!)
  }

  private check(): void {
    assert(!this.closed, 'table iterator used after close')
    this.table.assertOpen()
  }
}
