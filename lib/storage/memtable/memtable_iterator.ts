// The memtable's InternalIterator (lib/storage/types.ts): walks a frozen sorted array of key
// strings (a memtable view, never mutated) and, per key, that key's live version chain.
// Forward: key ascending, seq descending (the chain's own order). Reverse: key descending, seq
// ascending (the chain copied into a reused scratch array and walked backwards).

import { assert } from '../../assert'
import type { Entry, InternalIterator, Kind } from '../types'
import { keyString } from './key_string'
import type { MemEntry } from './memtable'

export class MemtableIterator implements InternalIterator {
  private i = -1
  private node: MemEntry | undefined
  private readonly chain: MemEntry[] = []
  private ci = -1
  private closed = false

  constructor(
    private readonly map: ReadonlyMap<string, MemEntry>,
    private readonly keys: readonly string[],
    private readonly reverse: boolean,
  ) {}

  seekToStart(): void {
    this.i = this.reverse ? this.keys.length - 1 : 0
    this.load()
  }

  /** Forward: first entry with key >= target. Reverse: last entry (in forward order) with key <= target. */
  seek(target: Buffer): void {
    const t = keyString(target)
    // lo = first index with keys[lo] >= t (forward) or > t (reverse)
    let lo = 0
    let hi = this.keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const k = this.keys[mid]!
      if (k < t || (this.reverse && k === t)) lo = mid + 1
      else hi = mid
    }
    this.i = this.reverse ? lo - 1 : lo
    this.load()
  }

  valid(): boolean {
    return this.node !== undefined
  }

  next(): void {
    assert(this.node !== undefined, 'next() on an invalid iterator')
    if (this.reverse) {
      if (--this.ci >= 0) {
        this.node = this.chain[this.ci]
        return
      }
      this.i--
    } else {
      this.node = this.node.older
      if (this.node !== undefined) return
      this.i++
    }
    this.load()
  }

  key(): Buffer {
    return this.current().key
  }

  seq(): number {
    return this.current().seq
  }

  kind(): Kind {
    return this.current().kind
  }

  expiresAtMs(): number {
    return this.current().expiresAtMs
  }

  value(): Buffer {
    return this.current().value
  }

  /** The current entry itself (no copy; stays valid as long as the memtable). */
  entry(): Entry {
    return this.current()
  }

  close(): void {
    this.closed = true
    this.node = undefined
    this.chain.length = 0
  }

  private current(): MemEntry {
    assert(this.node !== undefined, 'iterator is not valid')
    return this.node
  }

  private load(): void {
    assert(!this.closed, 'iterator is closed')
    const k = this.i >= 0 && this.i < this.keys.length ? this.keys[this.i] : undefined
    const head = k === undefined ? undefined : this.map.get(k)
    if (!this.reverse || head === undefined) {
      this.node = head
      return
    }
    this.chain.length = 0
    for (let e: MemEntry | undefined = head; e !== undefined; e = e.older) this.chain.push(e)
    this.ci = this.chain.length - 1
    this.node = this.chain[this.ci]
  }
}
