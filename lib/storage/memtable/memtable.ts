// The memtable: the engine's ordered, size-bounded, multi-version in-memory table of entries
// (FORMAT.md §1 order: key ascending, seq descending). Owned by the storage layer; one mutable
// memtable per engine, frozen (no more add) when it is full and then flushed to an SSTable.
//
// Representation (measured, see perf/wal_memtable.ts): a Map from the key's latin1 string (one
// char per byte, so JS string order IS bytewise order) to the newest version of that key, each
// version linking to the next older one. Point operations are one Map lookup. The ordered view
// (iterators, flush) is a sorted array of distinct key strings, built lazily: keys new since the
// last view are sorted on their own and merged in (O(n + k log k)), and the result is cached
// until a new key arrives. A JS skiplist with Buffer.compare was measured several times slower
// for add and get (see the figures in perf/results/wal_memtable.json).
//
// Invariants:
//   - each key's version chain is ordered by seq descending; (key, seq) pairs are unique.
//   - a view array, once handed to an iterator, is never mutated: writes build a new one. An
//     open iterator therefore never skips or repeats a key; it may or may not see versions or
//     keys added after it was created (the engine hides them by sequence number anyway).
//   - versions are dropped only when `oldestSnapshotSeq` says no reader can see them: of the
//     versions at or below that seq, only the newest is kept.
//   - the memtable keeps the key and value Buffers it is given (no copy): pass buffers that
//     nothing will modify (copy out of mailboxes and scratch buffers first).

import { assert } from '../../assert'
import { memtableEntryOverheadBytes } from '../../constants'
import type { Entry, InternalIterator, Kind } from '../types'
import { keyString } from './key_string'
import { MemtableIterator } from './memtable_iterator'

/** One version of one key; `older` links to the next older version of the same key. */
export class MemEntry implements Entry {
  constructor(
    readonly key: Buffer,
    readonly seq: number,
    readonly kind: Kind,
    readonly expiresAtMs: number,
    readonly value: Buffer,
    public older: MemEntry | undefined,
  ) {}
}

export interface MemtableOptions {
  /**
   * The lowest sequence number any open snapshot or iterator may read at (the engine's last
   * sequence number when there are none). Without it every version is kept.
   */
  oldestSnapshotSeq?: () => number
}

export class Memtable {
  /** Estimated memory held: key + value bytes plus memtableEntryOverheadBytes per version. */
  approximateBytes = 0
  /** Versions held. */
  count = 0
  minSeq = Number.POSITIVE_INFINITY
  maxSeq = -1
  private readonly map = new Map<string, MemEntry>()
  private sorted: string[] = []
  private unsorted: string[] = []
  private readonly oldestSnapshotSeq: (() => number) | undefined

  constructor(options: MemtableOptions = {}) {
    this.oldestSnapshotSeq = options.oldestSnapshotSeq
  }

  /** Distinct keys held. */
  get keyCount(): number {
    return this.map.size
  }

  add(key: Buffer, seq: number, kind: Kind, expiresAtMs: number, value: Buffer): void {
    const k = keyString(key)
    const head = this.map.get(k)
    const e = new MemEntry(key, seq, kind, expiresAtMs, value, undefined)
    this.approximateBytes += key.length + value.length + memtableEntryOverheadBytes
    this.count++
    if (seq < this.minSeq) this.minSeq = seq
    if (seq > this.maxSeq) this.maxSeq = seq
    if (head === undefined) {
      this.map.set(k, e)
      this.unsorted.push(k)
      return
    }
    if (seq > head.seq) {
      e.older = head
      this.map.set(k, e)
      if (this.oldestSnapshotSeq !== undefined) this.prune(e, this.oldestSnapshotSeq())
      return
    }
    // Out of order (rare: e.g. replaying writes): insert in place.
    let prev = head
    while (prev.older !== undefined && prev.older.seq > seq) prev = prev.older
    assert(prev.seq !== seq && prev.older?.seq !== seq, `duplicate version of a key at seq ${seq}`)
    e.older = prev.older
    prev.older = e
  }

  /** The newest version of `key` with seq <= snapshotSeq, tombstones included. */
  get(key: Buffer, snapshotSeq = Number.MAX_SAFE_INTEGER): Entry | undefined {
    let e = this.map.get(keyString(key))
    while (e !== undefined && e.seq > snapshotSeq) e = e.older
    return e
  }

  iterator(reverse = false): InternalIterator {
    return new MemtableIterator(this.map, this.view(), reverse)
  }

  /** Every version in FORMAT.md §1 order, for flush. */
  sortedEntries(): Entry[] {
    const out: Entry[] = []
    for (const k of this.view()) {
      for (let e = this.map.get(k); e !== undefined; e = e.older) out.push(e)
    }
    return out
  }

  /** The sorted distinct keys as latin1 strings; never mutated once returned. */
  private view(): string[] {
    if (this.unsorted.length === 0) return this.sorted
    const fresh = this.unsorted.sort()
    this.unsorted = []
    const old = this.sorted
    if (old.length === 0) return (this.sorted = fresh)
    const merged = new Array<string>(old.length + fresh.length)
    let i = 0
    let j = 0
    let o = 0
    while (i < old.length && j < fresh.length) merged[o++] = old[i]! < fresh[j]! ? old[i++]! : fresh[j++]!
    while (i < old.length) merged[o++] = old[i++]!
    while (j < fresh.length) merged[o++] = fresh[j++]!
    return (this.sorted = merged)
  }

  /** Keeps the versions above `oldest` and the newest one at or below it; drops the rest. */
  private prune(head: MemEntry, oldest: number): void {
    let e: MemEntry | undefined = head
    while (e !== undefined && e.seq > oldest) e = e.older
    if (e === undefined) return
    let dropped = e.older
    e.older = undefined
    while (dropped !== undefined) {
      this.approximateBytes -= dropped.key.length + dropped.value.length + memtableEntryOverheadBytes
      this.count--
      dropped = dropped.older
    }
  }
}
