// The user-facing iterator: reads a merged stream of versions at one snapshot sequence number
// and wall-clock time, and yields each key's visible value once, within bounds, in order.
// Keys and values it returns are copies (safe to keep). It pins what it reads (the Version
// and memtables) until `close()`; a `seek()` after the end starts reading again.

import { compareBytes } from '../../util/bytes'
import type { InternalIterator } from '../types'
import { isLive } from '../types'

/** Bounds as in abstract-level: where both are given, `gte` wins over `gt` and `lte` over `lt`. */
export interface RangeOptions {
  gt?: Buffer
  gte?: Buffer
  lt?: Buffer
  lte?: Buffer
  reverse?: boolean
  /** At most this many entries; negative or Infinity for no limit. */
  limit?: number
}

export interface KeyValue {
  key: Buffer
  value: Buffer
}

export class DbIterator {
  private count = 0
  private started = false
  private closed = false
  private readonly limit: number
  private readonly reverse: boolean

  constructor(
    private readonly inner: InternalIterator,
    private readonly range: RangeOptions,
    private readonly snapshotSeq: number,
    private readonly nowMs: number,
    private readonly onClose: () => void,
  ) {
    if (range.gte !== undefined) delete range.gt
    if (range.lte !== undefined) delete range.lt
    const l = range.limit ?? -1
    this.limit = l < 0 ? Infinity : l
    this.reverse = range.reverse === true
  }

  /** Repositions at the first visible entry at or after (before, in reverse) `target`. */
  seek(target: Buffer): void {
    if (this.closed) return
    this.started = true
    const lower = this.range.gte ?? this.range.gt
    const upper = this.range.lte ?? this.range.lt
    if (!this.reverse && lower !== undefined && compareBytes(target, lower) < 0) target = lower
    if (this.reverse && upper !== undefined && compareBytes(target, upper) > 0) target = upper
    this.inner.seek(target)
  }

  private start(): void {
    this.started = true
    const from = this.reverse ? (this.range.lte ?? this.range.lt) : (this.range.gte ?? this.range.gt)
    if (from === undefined) this.inner.seekToStart()
    else this.inner.seek(from)
  }

  /** Is `key` past the far bound (so iteration ends)? */
  private pastEnd(key: Buffer): boolean {
    const r = this.range
    if (!this.reverse) {
      if (r.lt !== undefined && compareBytes(key, r.lt) >= 0) return true
      if (r.lte !== undefined && compareBytes(key, r.lte) > 0) return true
    } else {
      if (r.gt !== undefined && compareBytes(key, r.gt) <= 0) return true
      if (r.gte !== undefined && compareBytes(key, r.gte) < 0) return true
    }
    return false
  }

  /** Is `key` before the near bound (the excluded gt / lt key itself)? */
  private beforeStart(key: Buffer): boolean {
    const r = this.range
    if (!this.reverse) return r.gt !== undefined && compareBytes(key, r.gt) <= 0
    return r.lt !== undefined && compareBytes(key, r.lt) >= 0
  }

  /** The next visible entry, or undefined at the end (call `close()` to release the pins). */
  next(): KeyValue | undefined {
    if (this.closed) return undefined
    if (!this.started) this.start()
    if (this.count >= this.limit) return this.finish()
    const it = this.inner
    while (it.valid()) {
      const key = Buffer.from(it.key())
      if (this.pastEnd(key)) return this.finish()
      const skip = this.beforeStart(key)
      let found: KeyValue | undefined
      if (!this.reverse) {
        // Versions come newest first: the first at or below the snapshot decides.
        let decided = false
        while (it.valid() && compareBytes(it.key(), key) === 0) {
          if (!decided && it.seq() <= this.snapshotSeq) {
            decided = true
            if (!skip && isLive(it.kind(), it.expiresAtMs(), this.nowMs)) found = { key, value: Buffer.from(it.value()) }
          }
          it.next()
        }
      } else {
        // Versions come oldest first: the last at or below the snapshot decides.
        let live = false
        let value: Buffer | undefined
        while (it.valid() && compareBytes(it.key(), key) === 0) {
          if (it.seq() <= this.snapshotSeq) {
            live = isLive(it.kind(), it.expiresAtMs(), this.nowMs)
            value = live ? Buffer.from(it.value()) : undefined
          }
          it.next()
        }
        if (!skip && live && value !== undefined) found = { key, value }
      }
      if (found !== undefined) {
        this.count++
        return found
      }
    }
    return this.finish()
  }

  private finish(): undefined {
    return undefined
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.inner.close()
    this.onClose()
  }
}
