// abstract-level iterators over the engine's DbIterator (lib/storage/iterator/db_iterator.ts):
// entries, keys and values. The engine iterator is synchronous, reads one snapshot taken when
// the iterator is created (abstract-level's implicit snapshots) and applies the range and the
// limit itself; abstract-level counts entries too and never asks past the limit.
//
// Reads are batched: `nextv(size)` fills up to `size` entries (capped by iteratorChunk*Max) in
// one synchronous pass, and `all()` reads chunk by chunk, yielding to the event loop between
// chunks so a large scan does not starve other work. With a `signal`, every call yields once
// before reading and rejects with LEVEL_ABORTED if the signal fired by then.

import { setImmediate as nextTurn } from 'node:timers/promises'
import { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } from 'abstract-level'
import type { DbIterator, Engine, IteratorOptions, KeyValue } from '../storage'
import { fromEngine, toEngineKey } from './formats'
import { iteratorChunkBytesMax, iteratorChunkEntriesMax } from './limits'
import { engineSnapshotOf } from './ringwood_snapshot'

type Stored = Buffer | Uint8Array | string

/** What abstract-level passes to `_iterator()`, `_keys()` and `_values()` (bounds already encoded). */
export interface PrivateIteratorOptions {
  gt?: string | Uint8Array
  gte?: string | Uint8Array
  lt?: string | Uint8Array
  lte?: string | Uint8Array
  reverse: boolean
  /** -1 for no limit. */
  limit: number
  keys?: boolean
  values?: boolean
  keyEncoding: string
  valueEncoding?: string
  snapshot?: unknown
  signal?: AbortSignal | null
}

/** The engine's iterator options for abstract-level's range, order, limit and snapshot. */
export function engineIteratorOptions(options: PrivateIteratorOptions, engine: Engine): IteratorOptions {
  const o: IteratorOptions = { reverse: options.reverse, limit: options.limit }
  // gte and lte take precedence over gt and lt (abstract-level's README); the engine would
  // apply both, so only one bound per side is passed.
  if (options.gte !== undefined) o.gte = toEngineKey(options.gte)
  else if (options.gt !== undefined) o.gt = toEngineKey(options.gt)
  if (options.lte !== undefined) o.lte = toEngineKey(options.lte)
  else if (options.lt !== undefined) o.lt = toEngineKey(options.lt)
  const snapshot = engineSnapshotOf(options.snapshot, engine)
  if (snapshot !== undefined) o.snapshot = snapshot
  return o
}

/** The engine iterator, its batching and its abort checks; `shape` makes one item of an entry. */
class EngineCursor<T> {
  private readonly it: DbIterator
  private readonly signal: AbortSignal | null
  private ended = false

  constructor(
    engine: Engine,
    options: PrivateIteratorOptions,
    private readonly shape: (kv: KeyValue) => T,
  ) {
    this.signal = options.signal ?? null
    this.it = engine.iterator(engineIteratorOptions(options, engine))
  }

  async next(): Promise<T | undefined> {
    if (this.signal !== null) await this.checkpoint(false)
    const kv = this.ended ? undefined : this.it.next()
    if (kv === undefined) {
      this.ended = true
      return undefined
    }
    return this.shape(kv)
  }

  async nextv(size: number): Promise<T[]> {
    if (this.signal !== null) await this.checkpoint(false)
    return this.chunk(size)
  }

  async all(): Promise<T[]> {
    const out: T[] = []
    let first = true
    while (!this.ended) {
      if (!first || this.signal !== null) await this.checkpoint(!first)
      first = false
      for (const item of this.chunk(iteratorChunkEntriesMax)) out.push(item)
    }
    return out
  }

  seek(target: Stored): void {
    this.ended = false
    this.it.seek(toEngineKey(target))
  }

  close(): void {
    this.it.close()
  }

  /** Up to `size` items, fewer once the chunk passes iteratorChunkBytesMax; [] only at the end. */
  private chunk(size: number): T[] {
    const out: T[] = []
    const n = Math.min(size, iteratorChunkEntriesMax)
    let bytes = 0
    while (!this.ended && out.length < n && bytes < iteratorChunkBytesMax) {
      const kv = this.it.next()
      if (kv === undefined) {
        this.ended = true
        break
      }
      bytes += kv.key.length + kv.value.length
      out.push(this.shape(kv))
    }
    return out
  }

  /** Yields (a microtask, or a turn of the event loop between chunks), then honours the signal. */
  private async checkpoint(turn: boolean): Promise<void> {
    if (turn) await nextTurn()
    else await undefined
    if (this.signal?.aborted === true) throw abortError()
  }
}

/** abstract-level's LEVEL_ABORTED (its AbortError class is not exported). */
function abortError(): Error {
  const err = new Error('Operation has been aborted') as Error & { code: string }
  err.name = 'AbortError'
  err.code = 'LEVEL_ABORTED'
  return err
}

export class RingwoodIterator extends AbstractIterator<unknown, Stored | undefined, Stored | undefined> {
  private readonly cursor: EngineCursor<[Stored | undefined, Stored | undefined]>

  constructor(db: unknown, engine: Engine, options: PrivateIteratorOptions) {
    const keys = options.keys !== false
    const values = options.values !== false
    const kf = options.keyEncoding
    const vf = options.valueEncoding ?? 'utf8'
    // Before super(), which registers this iterator with the db: a failed engine.iterator()
    // (closed engine, foreign snapshot) must not leave a half-built resource behind.
    const cursor = new EngineCursor<[Stored | undefined, Stored | undefined]>(engine, options, (kv) => [
      keys ? fromEngine(kv.key, kf) : undefined,
      values ? fromEngine(kv.value, vf) : undefined,
    ])
    super(db, options as never)
    this.cursor = cursor
  }

  async _next(): Promise<[Stored | undefined, Stored | undefined] | undefined> {
    return this.cursor.next()
  }

  async _nextv(size: number): Promise<[Stored | undefined, Stored | undefined][]> {
    return this.cursor.nextv(size)
  }

  async _all(): Promise<[Stored | undefined, Stored | undefined][]> {
    return this.cursor.all()
  }

  _seek(target: Stored): void {
    this.cursor.seek(target)
  }

  async _close(): Promise<void> {
    this.cursor.close()
  }
}

export class RingwoodKeyIterator extends AbstractKeyIterator<unknown, Stored> {
  private readonly cursor: EngineCursor<Stored>

  constructor(db: unknown, engine: Engine, options: PrivateIteratorOptions) {
    const kf = options.keyEncoding
    const cursor = new EngineCursor<Stored>(engine, options, (kv) => fromEngine(kv.key, kf))
    super(db, options as never)
    this.cursor = cursor
  }

  async _next(): Promise<Stored | undefined> {
    return this.cursor.next()
  }

  async _nextv(size: number): Promise<Stored[]> {
    return this.cursor.nextv(size)
  }

  async _all(): Promise<Stored[]> {
    return this.cursor.all()
  }

  _seek(target: Stored): void {
    this.cursor.seek(target)
  }

  async _close(): Promise<void> {
    this.cursor.close()
  }
}

export class RingwoodValueIterator extends AbstractValueIterator<unknown, Stored, Stored> {
  private readonly cursor: EngineCursor<Stored>

  constructor(db: unknown, engine: Engine, options: PrivateIteratorOptions) {
    const vf = options.valueEncoding ?? 'utf8'
    const cursor = new EngineCursor<Stored>(engine, options, (kv) => fromEngine(kv.value, vf))
    super(db, options as never)
    this.cursor = cursor
  }

  async _next(): Promise<Stored | undefined> {
    return this.cursor.next()
  }

  async _nextv(size: number): Promise<Stored[]> {
    return this.cursor.nextv(size)
  }

  async _all(): Promise<Stored[]> {
    return this.cursor.all()
  }

  _seek(target: Stored): void {
    this.cursor.seek(target)
  }

  async _close(): Promise<void> {
    this.cursor.close()
  }
}
