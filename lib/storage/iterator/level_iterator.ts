// Iterates one level >= 1 (non-overlapping tables in key order) as a single stream, opening
// one table iterator at a time (a concatenating iterator, LevelDB's two-level iterator).

import { compareBytes } from '../../util/bytes'
import type { TableMeta } from '../version/version_edit'
import { firstTableEndingAtOrAfter } from '../version/version'
import type { InternalIterator, Kind } from '../types'

export class LevelIterator implements InternalIterator {
  private index = -1
  private current: InternalIterator | undefined

  constructor(
    private readonly tables: readonly TableMeta[],
    private readonly open: (t: TableMeta, reverse: boolean) => InternalIterator,
    private readonly reverse: boolean,
  ) {}

  private load(i: number): void {
    this.current?.close()
    this.current = undefined
    this.index = i
    if (i >= 0 && i < this.tables.length) this.current = this.open(this.tables[i]!, this.reverse)
  }

  /** Moves to following tables while the current one is exhausted. */
  private skipEmpty(): void {
    while (this.current !== undefined && !this.current.valid()) {
      this.load(this.reverse ? this.index - 1 : this.index + 1)
      this.current?.seekToStart()
    }
  }

  seek(target: Buffer): void {
    const t = this.tables
    if (!this.reverse) {
      this.load(firstTableEndingAtOrAfter(t, target))
    } else {
      let lo = 0
      let hi = t.length
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (compareBytes(t[mid]!.smallest, target) <= 0) lo = mid + 1
        else hi = mid
      }
      this.load(lo - 1)
    }
    this.current?.seek(target)
    this.skipEmpty()
  }

  seekToStart(): void {
    this.load(this.reverse ? this.tables.length - 1 : 0)
    this.current?.seekToStart()
    this.skipEmpty()
  }

  valid(): boolean {
    return this.current !== undefined && this.current.valid()
  }

  next(): void {
    this.current!.next()
    this.skipEmpty()
  }

  key(): Buffer {
    return this.current!.key()
  }

  seq(): number {
    return this.current!.seq()
  }

  kind(): Kind {
    return this.current!.kind()
  }

  expiresAtMs(): number {
    return this.current!.expiresAtMs()
  }

  value(): Buffer {
    return this.current!.value()
  }

  close(): void {
    this.current?.close()
    this.current = undefined
  }
}
