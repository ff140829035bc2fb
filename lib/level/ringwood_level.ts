// RingwoodLevel: an abstract-level 3 database over one storage engine (lib/storage). abstract-level's
// public methods validate, encode and defer until open; the private hooks here (`_open`, `_get`,
// `_put`, `_batch`, `_iterator`, `_clear`, `_snapshot`, ...) map them onto the engine, which holds
// every format and algorithm. The manifest below is what the suite tests (README, "abstract-level").
//
// Options: the engine's options (durability, memtableBytes, ...) are taken out of the constructor's
// options and passed to Engine.open; everything else (encodings, userland options) goes to
// abstract-level. createIfMissing / errorIfExists belong to both and come from open().
// Writes honour `{ sync: true }`; put and batch honour `{ ttlMs }` (per batch or per operation).
// Engine failures stay KvErrors with their codes (lib/errors.ts); abstract-level adds its own
// LEVEL_* codes for misuse (not open, invalid key, busy iterator...).

import { AbstractLevel } from 'abstract-level'
import type { AbstractBatchOperation, AbstractBatchOptions, AbstractChainedBatch, AbstractDatabaseOptions, AbstractDelOptions, AbstractPutOptions } from 'abstract-level'
import { assert } from '../assert'
import { invalidArgument } from '../errors'
import { Engine, type BatchOp, type EngineOptions, type WriteOptions } from '../storage'
import { fromEngine } from './formats'
import { clearBatchBytesMax, clearBatchKeysMax } from './limits'
import { RingwoodIterator, RingwoodKeyIterator, RingwoodValueIterator, engineIteratorOptions, type PrivateIteratorOptions } from './ringwood_iterator'
import { RingwoodSnapshot, engineSnapshotOf } from './ringwood_snapshot'

type Stored = Buffer | Uint8Array | string

/** Engine options that are not abstract-level's too. */
export type RingwoodEngineOptions = Omit<EngineOptions, 'createIfMissing' | 'errorIfExists'>

export interface RingwoodLevelOptions<K, V> extends AbstractDatabaseOptions<K, V>, RingwoodEngineOptions {
  /** Other (userland) options are kept by abstract-level and given to postopen hooks. */
  [option: string]: unknown
}

export interface RingwoodWriteOptions {
  /** Acknowledge only after an fdatasync covers this write, whatever the durability. */
  sync?: boolean
}

export interface RingwoodPutOptions<K, V> extends AbstractPutOptions<K, V>, RingwoodWriteOptions {
  /** The entry disappears this many milliseconds from now. */
  ttlMs?: number
}

export interface RingwoodDelOptions<K> extends AbstractDelOptions<K>, RingwoodWriteOptions {}

export interface RingwoodBatchOptions<K, V> extends AbstractBatchOptions<K, V>, RingwoodWriteOptions {
  /** A default for every put of the batch; an operation's own `ttlMs` wins. */
  ttlMs?: number
}

/** The names of RingwoodEngineOptions; the Record type keeps this list in step with EngineOptions. */
const engineOptionNames: Record<keyof RingwoodEngineOptions, true> = {
  durability: true, memtableBytes: true, blockBytes: true, bloomBitsPerKey: true, reader: true,
  repair: true, compactionBytesPerSec: true, compactionInline: true, fs: true, clock: true,
}

const manifest = {
  encodings: { buffer: true, view: true, utf8: true },
  implicitSnapshots: true,
  explicitSnapshots: true,
  has: true,
  getSync: true,
  permanence: true,
  seek: true,
  createIfMissing: true,
  errorIfExists: true,
  signals: { iterators: true },
}

interface PrivateReadOptions {
  valueEncoding: string
  snapshot?: unknown
}

interface PrivateWriteOptions {
  sync?: unknown
  ttlMs?: unknown
}

interface PrivateBatchOperation {
  type: 'put' | 'del'
  key: Stored
  value?: Stored
  ttlMs?: unknown
}

export class RingwoodLevel<KDefault = string, VDefault = string> extends AbstractLevel<Stored, KDefault, VDefault> {
  /** The data directory. */
  readonly location: string
  private readonly engineOptions: RingwoodEngineOptions
  private engine: Engine | undefined

  constructor(location: string, options: RingwoodLevelOptions<KDefault, VDefault> = {}) {
    if (typeof location !== 'string' || location === '') throw invalidArgument('location must be a non-empty string')
    const engineOptions: Record<string, unknown> = {}
    const levelOptions: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(options)) {
      if (Object.hasOwn(engineOptionNames, k)) engineOptions[k] = v
      else levelOptions[k] = v
    }
    super(manifest, levelOptions)
    this.location = location
    this.engineOptions = engineOptions as RingwoodEngineOptions
  }

  // ---- Open and close ----

  async _open(options: { createIfMissing: boolean; errorIfExists: boolean }): Promise<void> {
    const opts: EngineOptions = { ...this.engineOptions, createIfMissing: options.createIfMissing, errorIfExists: options.errorIfExists }
    try {
      this.engine = await Engine.open(this.location, opts)
    } catch (err) {
      throw err
    }
  }

  async _close(): Promise<void> {
    // Kept if close fails: abstract-level then reports the database open again, and the engine
    // (closed either way) answers KV_CLOSED rather than this adapter tripping an assertion.
    await this.engine?.close()
    this.engine = undefined
  }

  /** The open engine; abstract-level calls a private hook only while the database is open. */
  private get store(): Engine {
    assert(this.engine !== undefined, 'RingwoodLevel: a private hook ran while the engine is not open')
    return this.engine
  }

  // ---- Reads (each reads one snapshot: the explicit one, or the latest, taken synchronously) ----

  _getSync(key: Stored, options: PrivateReadOptions): Stored | undefined {
    const engine = this.store
    const value = engine.getSync(key, { snapshot: engineSnapshotOf(options.snapshot, engine) })
    return value === undefined ? undefined : fromEngine(value, options.valueEncoding)
  }

  async _get(key: Stored, options: PrivateReadOptions): Promise<Stored | undefined> {
    return this._getSync(key, options)
  }

  async _getMany(keys: Stored[], options: PrivateReadOptions): Promise<(Stored | undefined)[]> {
    return keys.map((key) => this._getSync(key, options))
  }

  async _has(key: Stored, options: { snapshot?: unknown }): Promise<boolean> {
    const engine = this.store
    return engine.getSync(key, { snapshot: engineSnapshotOf(options.snapshot, engine) }) !== undefined
  }

  async _hasMany(keys: Stored[], options: { snapshot?: unknown }): Promise<boolean[]> {
    const engine = this.store
    const snapshot = engineSnapshotOf(options.snapshot, engine)
    return keys.map((key) => engine.getSync(key, { snapshot }) !== undefined)
  }

  _iterator(options: PrivateIteratorOptions): RingwoodIterator {
    return new RingwoodIterator(this, this.store, options)
  }

  _keys(options: PrivateIteratorOptions): RingwoodKeyIterator {
    return new RingwoodKeyIterator(this, this.store, options)
  }

  _values(options: PrivateIteratorOptions): RingwoodValueIterator {
    return new RingwoodValueIterator(this, this.store, options)
  }

  _snapshot(options: { owner: unknown }): RingwoodSnapshot {
    return new RingwoodSnapshot(options, this.store)
  }

  // ---- Writes ----

  async _put(key: Stored, value: Stored, options: PrivateWriteOptions): Promise<void> {
    const ttlMs = options.ttlMs as number | undefined
    return this.store.put(key, value, { sync: options.sync === true, ...(ttlMs !== undefined && { ttlMs }) })
  }

  async _del(key: Stored, options: PrivateWriteOptions): Promise<void> {
    return this.store.del(key, writeOptions(options))
  }

  /** Atomic: one engine batch. Each operation already carries the batch's options (abstract-level merges them). */
  async _batch(operations: PrivateBatchOperation[], options: PrivateWriteOptions): Promise<void> {
    const ops: BatchOp[] = operations.map((op) => {
      if (op.type === 'del') return { type: 'del', key: op.key }
      const ttlMs = op.ttlMs as number | undefined
      return { type: 'put', key: op.key, value: op.value!, ...(ttlMs !== undefined && { ttlMs }) }
    })
    return this.store.batch(ops, writeOptions(options))
  }

  /**
   * Deletes the range (with reverse and limit) as it is in one snapshot taken now, in engine
   * batches of at most clearBatchKeysMax keys: not atomic, as abstract-level allows; writes
   * made after the call are not affected.
   */
  async _clear(options: PrivateIteratorOptions & PrivateWriteOptions): Promise<void> {
    const engine = this.store
    const it = engine.iterator(engineIteratorOptions(options, engine))
    try {
      for (;;) {
        const ops: BatchOp[] = []
        let bytes = 0
        for (let kv = it.next(); kv !== undefined; kv = it.next()) {
          ops.push({ type: 'del', key: kv.key })
          bytes += kv.key.length
          if (ops.length >= clearBatchKeysMax || bytes >= clearBatchBytesMax) break
        }
        if (ops.length === 0) return
        await engine.batch(ops, writeOptions(options))
      }
    } finally {
      it.close()
    }
  }
}

// Typed overloads for the write options abstract-level forwards untouched (sync, ttlMs).
export interface RingwoodLevel<KDefault = string, VDefault = string> {
  put(key: KDefault, value: VDefault): Promise<void>
  put<K = KDefault, V = VDefault>(key: K, value: V, options: RingwoodPutOptions<K, V>): Promise<void>
  del(key: KDefault): Promise<void>
  del<K = KDefault>(key: K, options: RingwoodDelOptions<K>): Promise<void>
  batch(operations: Array<AbstractBatchOperation<this, KDefault, VDefault>>): Promise<void>
  batch<K = KDefault, V = VDefault>(operations: Array<AbstractBatchOperation<this, K, V> & { ttlMs?: number }>, options: RingwoodBatchOptions<K, V>): Promise<void>
  batch(): AbstractChainedBatch<this, KDefault, VDefault>
}

function writeOptions(options: PrivateWriteOptions): WriteOptions {
  return { sync: options.sync === true }
}


