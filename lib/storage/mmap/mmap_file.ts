// MmapFile: the RandomAccessFile of an SSTable read through a read-only shared mapping made by
// our addon (mmap.c). The descriptor is closed right after mapping (the mapping survives it);
// `read` returns a zero-copy view, and `mapping` is the whole file as one Buffer (TableReader's
// lookup path indexes it directly). Lifetime rules: README.md in this folder.
// Invariant: the mapping is only ever unmapped by the ArrayBuffer's GC finalizer, so no view
// can dangle; close() only drops this object's reference.

import fs from 'node:fs'
import { assert } from '../../assert'
import type { RandomAccessFile } from '../types'
import type { NativeAddon } from './native'

const empty = Buffer.alloc(0)

export class MmapFile implements RandomAccessFile {
  readonly size: number
  private view: Buffer
  private closed = false

  constructor(readonly path: string, addon: NativeAddon) {
    const fd = fs.openSync(path, 'r')
    try {
      this.size = fs.fstatSync(fd).size
      const ab = addon.map(fd, this.size)
      if (this.size > 0) addon.advise(ab, 'random')
      this.view = Buffer.from(ab, 0, this.size)
    } finally {
      fs.closeSync(fd)
    }
  }

  /** The whole file as one view (valid as long as it is referenced; see README.md). */
  get mapping(): Buffer {
    assert(!this.closed, `${this.path}: mapping used after close`)
    return this.view
  }

  read(offset: number, length: number): Buffer {
    assert(!this.closed, `${this.path}: read after close`)
    assert(offset >= 0 && length >= 0 && offset + length <= this.size, `${this.path}: read [${offset}, +${length}) outside ${this.size} bytes`)
    return this.view.subarray(offset, offset + length)
  }

  close(): void {
    this.closed = true
    this.view = empty
  }
}
