// Merges several InternalIterators of one direction into one ordered stream (types.ts order:
// forward key asc / seq desc; reverse key desc / seq asc). A binary min-heap over the
// children's current entries; equal keys are ordered by seq, so every version comes through
// and the reader above (db_iterator.ts, the compaction job) decides which ones count.

import { compareBytes } from '../../util/bytes'
import type { InternalIterator, Kind } from '../types'

export class MergingIterator implements InternalIterator {
  private heap: InternalIterator[] = []

  constructor(private readonly children: InternalIterator[], private readonly reverse: boolean) {}

  /** Negative if a's current entry comes before b's. */
  private before(a: InternalIterator, b: InternalIterator): boolean {
    const c = compareBytes(a.key(), b.key())
    if (c !== 0) return this.reverse ? c > 0 : c < 0
    return this.reverse ? a.seq() < b.seq() : a.seq() > b.seq()
  }

  private rebuild(): void {
    this.heap = this.children.filter((c) => c.valid())
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  private siftDown(i: number): void {
    const h = this.heap
    const n = h.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < n && this.before(h[l]!, h[m]!)) m = l
      if (r < n && this.before(h[r]!, h[m]!)) m = r
      if (m === i) return
      const t = h[i]!
      h[i] = h[m]!
      h[m] = t
      i = m
    }
  }

  seek(target: Buffer): void {
    for (const c of this.children) c.seek(target)
    this.rebuild()
  }

  seekToStart(): void {
    for (const c of this.children) c.seekToStart()
    this.rebuild()
  }

  valid(): boolean {
    return this.heap.length > 0
  }

  next(): void {
    const top = this.heap[0]!
    top.next()
    if (!top.valid()) {
      const last = this.heap.pop()!
      if (this.heap.length === 0) return
      this.heap[0] = last
    }
    this.siftDown(0)
  }

  key(): Buffer {
    return this.heap[0]!.key()
  }

  seq(): number {
    return this.heap[0]!.seq()
  }

  kind(): Kind {
    return this.heap[0]!.kind()
  }

  expiresAtMs(): number {
    return this.heap[0]!.expiresAtMs()
  }

  value(): Buffer {
    return this.heap[0]!.value()
  }

  close(): void {
    for (const c of this.children) c.close()
    this.heap = []
  }
}
