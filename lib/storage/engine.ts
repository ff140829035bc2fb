// The storage engine's facade (lib/storage/DESIGN.md): one LSM tree in one directory. Public
// methods validate their arguments, then delegate: the write path to the memtable and the
// commit log (wal/), the read path to the memtables and the table cache, background work to
// background.ts, iteration to iterator/. It holds no format or algorithm of its own.
//
// Threading: every method runs on the thread that opened the engine (a node's event loop);
// flush and compaction run in the compaction pool. `getSync` never yields.

import { assert } from '../assert'
import * as C from '../constants'
import { KvError, invalidArgument } from '../errors'
import { compareBytes, type KeyLike } from '../util/bytes'
import { batchEntries, delEntry, keyForRead, putEntry, type BatchOp } from './arguments'
import { Background } from './background'
import { RealFs } from './fs/real_fs'
import type { FileSystem } from './fs/file_system'
import { logFileName, lockFileName } from './filenames'
import { DbIterator, type RangeOptions } from './iterator/db_iterator'
import { LevelIterator } from './iterator/level_iterator'
import { MergingIterator } from './iterator/merging_iterator'
import { Memtable } from './memtable'
import { chooseReader } from './mmap'
import { resolveOptions, type EngineOptions, type ResolvedOptions } from './options'
import { recoverEngine, type RepairReport } from './recovery'
import { TableCache } from './table_cache'
import { Kind, type Entry, type InternalIterator } from './types'
import type { Version } from './version/version'
import { VersionSet } from './version/version_set'
import { LogWriter } from './wal/log_writer'

export interface WriteOptions {
  /** Acknowledge only after an fdatasync covers this write, whatever the durability. */
  sync?: boolean
}

export interface PutOptions extends WriteOptions {
  /** The entry disappears this many milliseconds from now. */
  ttlMs?: number
  /** Instead of ttlMs: the wall-clock time (ms since the epoch, the engine's clock) it disappears at; may be past. */
  expiresAtMs?: number
}

export type { BatchOp } from './arguments'

/** A consistent point-in-time view for reads; release it when done. */
export interface Snapshot {
  readonly seq: number
  release(): void
}

export interface ReadOptions {
  snapshot?: Snapshot
}

export interface IteratorOptions {
  gt?: KeyLike
  gte?: KeyLike
  lt?: KeyLike
  lte?: KeyLike
  reverse?: boolean
  /** At most this many entries; negative or Infinity for no limit. */
  limit?: number
  snapshot?: Snapshot
}

/** An immutable memtable waiting for (or in) flush, with the log segments that hold it. */
export interface ImmutableMemtable {
  mem: Memtable
  logPaths: string[]
  /** The smallest log number among logPaths. */
  logNumber: number
  /** Resolves when every append to its log has landed (and been synced). */
  logClosed: Promise<void>
}

export class Engine {
  private mem: Memtable
  private log: LogWriter
  private logNumber: number
  readonly imms: ImmutableMemtable[] = []
  private lastSeq: number
  /** Sequence numbers read by open snapshots and iterators, with their counts. */
  private readonly snapshots = new Map<number, number>()
  /** The snapshots this engine handed out and that are not released. */
  private readonly liveSnapshots = new Set<Snapshot>()
  private closed = false
  private failure: KvError | undefined
  private stall: Promise<void> | undefined
  private endStall: (() => void) | undefined
  private lastSlowdownMs = 0
  private userBytesWritten = 0
  /** Bytes written to log segments that are no longer the current one. */
  private logBytesRetired = 0
  private writeStalls = 0
  private writeSlowdowns = 0
  private readonly background: Background

  private constructor(
    readonly dir: string,
    readonly options: ResolvedOptions,
    private readonly fs: FileSystem,
    private readonly lock: { release(): void },
    readonly versions: VersionSet,
    readonly tables: TableCache,
    /** What `repair` skipped while opening (empty unless the log was damaged). */
    readonly repairReport: RepairReport,
    recovered: ImmutableMemtable | undefined,
  ) {
    this.lastSeq = versions.lastSeq
    this.logNumber = versions.newFileNumber()
    this.mem = this.newMemtable()
    this.log = this.newLog(this.logNumber)
    this.background = new Background(this, options, fs)
    if (recovered !== undefined) {
      this.imms.push(recovered)
      this.background.scheduleFlush()
    }
  }

  /**
   * Releases the directory lock of an engine whose thread died without closing it (a
   * supervisor restarting a crashed node, or a test after a simulated power cut). Never call
   * it for an engine that is still running.
   */
  static breakLock(dir: string): void {
    new RealFs().breakLock(lockFileName(dir))
  }

  /** Opens (creating by default) the database in `dir`. */
  static async open(dir: string, options: EngineOptions = {}, ignoreOptions?: ReadonlySet<string>): Promise<Engine> {
    if (typeof dir !== 'string' || dir === '') throw invalidArgument('dir must be a non-empty string')
    const opts = resolveOptions(options, ignoreOptions)
    const fs = opts.fs ?? new RealFs()
    if (!fs.exists(dir)) {
      if (!opts.createIfMissing) throw invalidArgument(`${dir} does not exist (createIfMissing is false)`)
      fs.mkdirp(dir)
    }
    if (opts.reader === 'mmap') chooseReader({ reader: 'mmap' }) // warns once if the addon is missing
    const lock = fs.lock(lockFileName(dir))
    try {
      const versions = new VersionSet(fs, dir)
      const tables = new TableCache(fs, dir, opts.reader)
      const { recovered, report } = recoverEngine(fs, dir, versions, opts)
      versions.onObsolete = (t) => tables.evict(t)
      return new Engine(dir, opts, fs, lock, versions, tables, report, recovered)
    } catch (err) {
      lock.release()
      throw err
    }
  }

  // ---- Writes ----

  put(key: KeyLike, value: KeyLike, options?: PutOptions): Promise<void> {
    let entry: Entry
    try {
      entry = putEntry(key, value, options?.ttlMs, this.options.clock, options?.expiresAtMs)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.apply([entry], options?.sync === true)
  }

  del(key: KeyLike, options?: WriteOptions): Promise<void> {
    let entry: Entry
    try {
      entry = delEntry(key)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.apply([entry], options?.sync === true)
  }

  /** Applies every operation or none (one log record, consecutive sequence numbers). */
  batch(ops: readonly BatchOp[], options?: WriteOptions): Promise<void> {
    let entries: Entry[]
    try {
      entries = batchEntries(ops, this.options.clock)
    } catch (err) {
      return Promise.reject(err)
    }
    if (entries.length === 0) return this.closed ? Promise.reject(closedError()) : Promise.resolve()
    return this.apply(entries, options?.sync === true)
  }

  private apply(entries: Entry[], sync: boolean): Promise<void> {
    if (this.closed) return Promise.reject(closedError())
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.stall !== undefined) return this.stall.then(() => this.apply(entries, sync))
    if (this.mustWait()) return this.stall!.then(() => this.apply(entries, sync))
    const firstSeq = this.lastSeq + 1
    this.lastSeq += entries.length
    let bytes = 0
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!
      this.mem.add(e.key, firstSeq + i, e.kind, e.expiresAtMs, e.value)
      bytes += e.key.length + e.value.length
    }
    this.userBytesWritten += bytes
    const written = this.log.write(firstSeq, entries, sync ? syncOption : undefined)
    if (this.mem.approximateBytes >= this.options.memtableBytes || this.log.file.size >= C.logSegmentBytesMax) this.switchMemtable()
    return written
  }

  /** Starts a stall when writes must wait (too many immutable memtables or L0 tables). */
  private mustWait(): boolean {
    const l0 = this.versions.current.levels[0]!.length
    if (this.imms.length >= C.immutableMemtablesMax || l0 >= C.level0StopFiles) {
      this.writeStalls++
      this.beginStall(0)
      return true
    }
    const now = this.options.clock.monotonicMs()
    if (l0 >= C.level0SlowdownFiles && now - this.lastSlowdownMs >= C.writeSlowdownMs) {
      this.writeSlowdowns++
      this.lastSlowdownMs = now + C.writeSlowdownMs
      this.beginStall(C.writeSlowdownMs)
      return true
    }
    return false
  }

  private beginStall(ms: number): void {
    assert(this.stall === undefined, 'a stall is already in progress')
    this.stall = new Promise<void>((resolve) => (this.endStall = resolve))
    if (ms > 0) this.options.clock.setTimeout(() => this.releaseWriters(), ms)
  }

  /** Called when background work made room (and by the slowdown timer). */
  releaseWriters(): void {
    const end = this.endStall
    if (end === undefined) return
    this.stall = undefined
    this.endStall = undefined
    end()
  }

  /** The memtable is full: it becomes immutable and is flushed; writes go to a fresh one. */
  private switchMemtable(): void {
    const log = this.log
    this.logBytesRetired += log.stats.bytes
    const logClosed = log.close()
    // Awaited by the flush, which may start later: a failure is handled there, not unhandled here.
    logClosed.catch(() => undefined)
    this.imms.push({ mem: this.mem, logPaths: [log.file.path], logNumber: this.logNumber, logClosed })
    this.logNumber = this.versions.newFileNumber()
    this.log = this.newLog(this.logNumber, logClosed)
    this.mem = this.newMemtable()
    this.background.scheduleFlush()
  }

  private newMemtable(): Memtable {
    return new Memtable({ oldestSnapshotSeq: () => this.smallestSnapshot() })
  }

  /**
   * A new log segment; its directory entry is synced first, or a power cut could lose the file.
   * `after`: the previous segment's close, which its first write waits for (a crash must leave
   * a prefix of the history).
   */
  private newLog(n: number, after?: Promise<void>): LogWriter {
    const file = this.fs.openAppend(logFileName(this.dir, n), true)
    this.fs.syncDir(this.dir)
    return new LogWriter(file, {
      durability: this.options.durability,
      clock: this.options.clock,
      onFailure: (err) => this.fail(err),
      after,
    })
  }

  /** A write or sync failed: refuse every later write until the engine is reopened. */
  fail(err: KvError): void {
    if (this.failure === undefined) this.failure = err
    this.releaseWriters()
  }

  /** The oldest sequence number any snapshot or iterator reads at. */
  smallestSnapshot(): number {
    let min = this.lastSeq
    for (const s of this.snapshots.keys()) if (s < min) min = s
    return min
  }

  /** Forces the memtable to disk and waits until every immutable memtable is flushed. */
  async flush(): Promise<void> {
    this.assertOpen()
    if (this.mem.count > 0) this.switchMemtable()
    await this.background.whenFlushed()
  }

  /** Full compaction: every table merged into the deepest level, shadowed data dropped. */
  async compactAll(): Promise<void> {
    await this.flush()
    await this.background.compactAll()
  }

  /** Oldest log number still needed once the oldest immutable memtable is flushed. */
  nextLogNumberAfterOldest(): number {
    return this.imms[1]?.logNumber ?? this.logNumber
  }

  get lastSequence(): number {
    return this.lastSeq
  }

  // ---- Reads ----

  /** The value of `key`, or undefined. Synchronous: for callers on the engine's thread. */
  getSync(key: KeyLike, options?: ReadOptions): Buffer | undefined {
    if (this.closed) throw closedError()
    const k = keyForRead(key)
    const snap = options?.snapshot === undefined ? this.lastSeq : this.snapshotSeq(options.snapshot)
    if (this.mem.count > 0 || this.imms.length > 0) {
      let e: Entry | undefined = this.mem.count > 0 ? this.mem.get(k, snap) : undefined
      for (let i = this.imms.length - 1; e === undefined && i >= 0; i--) e = this.imms[i]!.mem.get(k, snap)
      if (e !== undefined) return this.visible(e.kind, e.expiresAtMs) ? Buffer.from(e.value) : undefined
    }
    const v = this.versions.current
    const levels = v.levels
    const l0 = levels[0]!
    for (let i = 0; i < l0.length; i++) {
      const t = l0[i]!
      if (compareBytes(k, t.smallest) < 0 || compareBytes(k, t.largest) > 0) continue
      const r = this.tables.get(t).get(k, snap)
      if (r !== undefined) return this.visible(r.kind, r.expiresAtMs) ? r.copyValue() : undefined
    }
    for (let level = 1; level <= v.deepest; level++) {
      const i = v.findTable(level, k)
      if (i < 0) continue
      const r = this.tables.get(levels[level]![i]!).get(k, snap)
      if (r !== undefined) return this.visible(r.kind, r.expiresAtMs) ? r.copyValue() : undefined
    }
    return undefined
  }

  /** A found version is a live value (the clock is read only for entries with a TTL). */
  private visible(kind: Kind, expiresAtMs: number): boolean {
    return kind === Kind.Put || (kind === Kind.PutTtl && expiresAtMs > this.options.clock.nowMs())
  }

  get(key: KeyLike, options?: ReadOptions): Promise<Buffer | undefined> {
    try {
      return Promise.resolve(this.getSync(key, options))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  snapshot(): Snapshot {
    this.assertOpen()
    const seq = this.lastSeq
    this.snapshots.set(seq, (this.snapshots.get(seq) ?? 0) + 1)
    const snap: Snapshot = {
      seq,
      release: () => {
        if (!this.liveSnapshots.delete(snap)) return
        const n = this.snapshots.get(seq)! - 1
        if (n === 0) this.snapshots.delete(seq)
        else this.snapshots.set(seq, n)
      },
    }
    this.liveSnapshots.add(snap)
    return snap
  }

  private snapshotSeq(s: Snapshot): number {
    if (!this.liveSnapshots.has(s)) throw invalidArgument('the snapshot was released or belongs to another engine')
    return s.seq
  }

  /** An ordered iterator over live entries; it reads a snapshot and pins what it reads. */
  iterator(options: IteratorOptions = {}): DbIterator {
    this.assertOpen()
    const range: RangeOptions = { reverse: options.reverse === true }
    for (const b of ['gt', 'gte', 'lt', 'lte'] as const) if (options[b] !== undefined) range[b] = keyForRead(options[b]!)
    if (options.limit !== undefined) range.limit = options.limit
    const snap = this.snapshot()
    const seq = options.snapshot !== undefined ? this.snapshotSeq(options.snapshot) : snap.seq
    const version = this.versions.current.ref()
    const reverse = range.reverse === true
    const children: InternalIterator[] = [this.mem.iterator(reverse)]
    for (let i = this.imms.length - 1; i >= 0; i--) children.push(this.imms[i]!.mem.iterator(reverse))
    for (const t of version.levels[0]!) children.push(this.tables.get(t).iterator(reverse))
    for (let level = 1; level < version.levels.length; level++) {
      const tables = version.levels[level]!
      if (tables.length > 0) children.push(new LevelIterator(tables, (t, rev) => this.tables.get(t).iterator(rev), reverse))
    }
    const release = (): void => {
      snap.release()
      version.unref()
    }
    return new DbIterator(new MergingIterator(children, reverse), range, seq, this.options.clock.nowMs(), release)
  }

  /** Approximate bytes on disk used by keys in [start, end). */
  approximateSize(start: KeyLike, end: KeyLike): number {
    this.assertOpen()
    const s = keyForRead(start)
    const e = keyForRead(end)
    let total = 0
    for (const t of this.versions.current.tables()) {
      if (compareBytes(t.largest, s) < 0 || compareBytes(t.smallest, e) >= 0) continue
      const r = this.tables.get(t)
      total += Math.max(0, r.approximateOffsetOf(e) - r.approximateOffsetOf(s))
    }
    return total
  }

  stats(): EngineStats {
    const v: Version = this.versions.current
    const levels = v.levels.map((tables, level) => ({ level, files: tables.length, bytes: v.levelBytes(level) }))
    const bloom = this.tables.bloomStats()
    const bg = this.background.stats
    const written = this.log.stats.bytes + this.logBytesRetired + bg.flushBytesWritten + bg.compactionBytesWritten
    return {
      levels,
      tableBytes: levels.reduce((a, l) => a + l.bytes, 0),
      memtableBytes: this.mem.approximateBytes,
      immutableMemtables: this.imms.length,
      lastSeq: this.lastSeq,
      snapshots: this.snapshots.size,
      bloom,
      writeStalls: this.writeStalls,
      writeSlowdowns: this.writeSlowdowns,
      userBytesWritten: this.userBytesWritten,
      writeAmplification: this.userBytesWritten > 0 ? written / this.userBytesWritten : 0,
      flushes: bg.flushes,
      compactions: bg.compactions,
      garbageCompactions: bg.garbageCompactions,
      compactionBytesRead: bg.compactionBytesRead,
      compactionBytesWritten: bg.compactionBytesWritten,
      backgroundBusy: this.background.busy,
      reader: chooseReader({ reader: this.options.reader }),
      failed: this.failure?.code ?? null,
    }
  }

  /** Flushes the log, waits for background work, releases files and the lock. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.background.beginClose()
    this.releaseWriters()
    try {
      await this.log.close().catch(() => undefined)
      await this.background.close()
    } finally {
      this.tables.closeAll()
      this.versions.close()
      this.lock.release()
    }
  }

  get isClosed(): boolean {
    return this.closed
  }

  private assertOpen(): void {
    if (this.closed) throw closedError()
  }
}

export interface EngineStats {
  levels: { level: number; files: number; bytes: number }[]
  tableBytes: number
  memtableBytes: number
  immutableMemtables: number
  lastSeq: number
  snapshots: number
  bloom: { checked: number; useful: number }
  writeStalls: number
  writeSlowdowns: number
  userBytesWritten: number
  /** (log + flush + compaction bytes written) / user bytes written. */
  writeAmplification: number
  flushes: number
  compactions: number
  /** Of compactions, those run for tombstones and expired entries (DESIGN.md, "Garbage compaction"). */
  garbageCompactions: number
  compactionBytesRead: number
  compactionBytesWritten: number
  /** A flush, a compaction or compactAll is running now. */
  backgroundBusy: boolean
  reader: 'mmap' | 'pread'
  failed: string | null
}

const syncOption = { sync: true }

function closedError(): KvError {
  return new KvError('KV_CLOSED', 'the engine is closed')
}
