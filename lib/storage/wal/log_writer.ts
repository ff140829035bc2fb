// The commit log writer: group commit over one AppendFile (FORMAT.md §2; DESIGN.md "Storage
// engine"). Owned by the storage layer; the engine assigns sequence numbers and calls
// `append`/`write` in sequence order.
//
// Group commit: writes that arrive while an append (and sync) is in flight accumulate in a
// pending buffer; when the flight lands, all of them go out as ONE append, followed by ONE
// fdatasync if any of them needs it. Consecutive writes with contiguous sequence numbers share
// one record (cut at logGroupBytesMax payload bytes); a gap starts a new record in the same
// append. Every write of a group gets the same promise (one allocation per group, not per write).
// The first write into an idle writer is sent from a microtask, so that writes issued in the same
// tick already share a record.
//
// Durability: 'sync' resolves after the fdatasync; 'interval' resolves after the append and
// syncs at least every syncIntervalMs; 'none' leaves syncing to the OS (and to close()). A
// per-write {sync: true} forces the group's fdatasync in any mode.
//
// Failure: a failed append or sync rejects that group (and every write queued behind it) with
// KV_IO_ERROR, and the writer stays failed: every later write rejects with KV_IO_ERROR. We
// never retry an fsync (after a failed fsync the kernel may have dropped the dirty pages). The
// segment may hold a partial record; recovery cuts it off as a torn tail.
//
// A group that waits for no fdatasync ('none', 'interval') is written with one synchronous
// write(2) (page cache copy, a few µs): measured ~3x the acknowledged rate of an async libuv
// write at one write in flight, equal at 1000 in flight. Groups that sync use async append+sync.
//
// Buffers: two scratch buffers alternate (pending / in flight); the in-flight one is not touched
// until its append resolves, so no per-write Buffer is allocated.

import { assert } from '../../assert'
import { logGroupBytesMax, logRecordBytesMax, logSyncIntervalMs } from '../../constants'
import { invalidArgument, KvError } from '../../errors'
import { systemClock, type Clock } from '../../util/clock'
import type { AppendFile } from '../fs/file_system'
import type { Entry } from '../types'
import { encodeEntry, entryEncodedBytes, groupHeaderBytes, recordHeaderBytes, sealRecord, writeGroupHeader } from './log_format'

export type Durability = 'none' | 'interval' | 'sync'

export interface LogWriterOptions {
  durability: Durability
  clock?: Clock
  /** 'interval' only; defaults to logSyncIntervalMs. */
  syncIntervalMs?: number
  /** Called once when the writer fails (also for a failed background sync in 'interval'). */
  onFailure?: (err: KvError) => void
  /**
   * The previous segment's close: no byte of this segment reaches its file before that
   * settles, so a crash leaves a prefix of the history (never a later group without an
   * earlier one that was still on its way to the previous segment).
   */
  after?: Promise<unknown>
}

export interface WriteOptions {
  sync?: boolean
}

export interface LogWriterStats {
  /** Writes (append/write calls) accepted. */
  writes: number
  /** Records written (a group holds one or more). */
  records: number
  /** Appends (groups) issued to the file. */
  groups: number
  bytes: number
  syncs: number
  /** Most writes coalesced into one group. */
  groupSizeMax: number
}

/** One group's shared promise. */
class Group {
  readonly promise: Promise<void>
  resolve!: () => void
  reject!: (err: unknown) => void
  needsSync = false
  writes = 0

  constructor() {
    this.promise = new Promise<void>((res, rej) => {
      this.resolve = res
      this.reject = rej
    })
  }
}

const initialBufferBytes = 64 * 1024

export class LogWriter {
  readonly stats: LogWriterStats = { writes: 0, records: 0, groups: 0, bytes: 0, syncs: 0, groupSizeMax: 0 }
  private readonly durability: Durability
  private readonly clock: Clock
  private readonly syncIntervalMs: number
  private readonly onFailure: ((err: KvError) => void) | undefined
  private buf = Buffer.allocUnsafe(initialBufferBytes)
  private spare = Buffer.allocUnsafe(initialBufferBytes)
  private len = 0
  /** Offset in `buf` of the open record, or -1. */
  private recStart = -1
  private recCount = 0
  private recNextSeq = -1
  private group: Group | undefined
  private running = false
  private scheduled = false
  private syncWanted = false
  private unsyncedBytes = 0
  private timer: { cancel(): void } | undefined
  private failure: KvError | undefined
  private closed = false
  private readonly runBound = (): void => void this.run()
  private after: Promise<unknown> | undefined

  constructor(readonly file: AppendFile, options: LogWriterOptions) {
    this.after = options.after
    this.durability = options.durability
    this.clock = options.clock ?? systemClock
    this.syncIntervalMs = options.syncIntervalMs ?? logSyncIntervalMs
    this.onFailure = options.onFailure
    assert(this.syncIntervalMs > 0, 'syncIntervalMs must be positive')
  }

  /** The error that failed this writer, if any. */
  get failed(): KvError | undefined {
    return this.failure
  }

  /** Bytes waiting for the next append (for the engine's backpressure). */
  get pendingBytes(): number {
    return this.len
  }

  /**
   * Appends `count` entries already encoded (FORMAT.md §2 `entry`, e.g. by an EntryEncoder)
   * with sequence numbers firstSeq.. . The bytes are copied; the caller may reuse `chunk`.
   */
  append(chunk: Uint8Array, count: number, firstSeq: number, opts?: WriteOptions): Promise<void> {
    const group = this.admit(chunk.length, count, firstSeq, opts)
    if (!(group instanceof Group)) return group
    this.buf.set(chunk, this.len)
    this.len += chunk.length
    return group.promise
  }

  /** Encodes `entries` (seqs firstSeq..; their own `seq` fields are ignored) straight into the group. */
  write(firstSeq: number, entries: readonly Entry[], opts?: WriteOptions): Promise<void> {
    let size = 0
    for (const e of entries) size += entryEncodedBytes(e.kind, e.key.length, e.value.length)
    const group = this.admit(size, entries.length, firstSeq, opts)
    if (!(group instanceof Group)) return group
    let off = this.len
    for (const e of entries) off = encodeEntry(this.buf, off, e.kind, e.key, e.expiresAtMs, e.value)
    assert(off === this.len + size, 'encoded size mismatch')
    this.len = off
    return group.promise
  }

  /** Makes every write accepted so far durable. */
  sync(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.closed) return Promise.reject(new KvError('KV_CLOSED', `commit log ${this.file.path} is closed`))
    const group = (this.group ??= new Group())
    group.needsSync = true
    this.kick()
    return group.promise
  }

  /** Flushes, syncs and closes the file. Rejects with KV_IO_ERROR if the log is not durable. */
  async close(): Promise<void> {
    if (this.closed) return
    let err: unknown
    try {
      if (this.failure === undefined) await this.sync()
      else err = this.failure
    } catch (e) {
      err = e
    }
    this.closed = true
    this.timer?.cancel()
    this.timer = undefined
    await this.file.close()
    if (err !== undefined) throw err
  }

  /** Validates a write, makes room in the pending buffer and opens or extends a record. */
  private admit(bytes: number, count: number, firstSeq: number, opts: WriteOptions | undefined): Group | Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.closed) return Promise.reject(new KvError('KV_CLOSED', `commit log ${this.file.path} is closed`))
    assert(Number.isSafeInteger(firstSeq) && firstSeq >= 0 && Number.isSafeInteger(firstSeq + count), `bad firstSeq ${firstSeq}`)
    if (groupHeaderBytes + bytes > logRecordBytesMax) {
      return Promise.reject(invalidArgument(`a write of ${bytes} bytes exceeds logRecordBytesMax`, { bytes }))
    }
    const extend = this.recStart >= 0 && firstSeq === this.recNextSeq && this.len - this.recStart - recordHeaderBytes + bytes <= logGroupBytesMax
    if (!extend) {
      this.sealOpenRecord()
      this.reserve(recordHeaderBytes + groupHeaderBytes + bytes)
      this.recStart = this.len
      this.recCount = 0
      this.len += recordHeaderBytes + groupHeaderBytes
      writeGroupHeader(this.buf, this.recStart + recordHeaderBytes, firstSeq, 0)
    } else {
      this.reserve(bytes)
    }
    this.recCount += count
    this.recNextSeq = firstSeq + count
    const group = (this.group ??= new Group())
    group.writes++
    if (opts?.sync === true || this.durability === 'sync') group.needsSync = true
    this.stats.writes++
    this.kick()
    return group
  }

  private reserve(bytes: number): void {
    if (this.len + bytes <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.len + bytes, this.buf.length * 2))
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  private sealOpenRecord(): void {
    if (this.recStart < 0) return
    const payloadLength = this.len - this.recStart - recordHeaderBytes
    this.buf.writeUInt32LE(this.recCount, this.recStart + recordHeaderBytes + 9)
    sealRecord(this.buf, this.recStart, payloadLength)
    this.recStart = -1
    this.stats.records++
  }

  private kick(): void {
    if (this.running || this.scheduled) return
    this.scheduled = true
    queueMicrotask(this.runBound)
  }

  /** The one I/O loop: at most one append or sync in flight, groups in call order. */
  private async run(): Promise<void> {
    this.scheduled = false
    this.running = true
    try {
      if (this.after !== undefined) {
        const previous = this.after
        this.after = undefined
        await previous.catch(() => undefined) // its failure is the engine's to report
      }
      while (this.failure === undefined && (this.len > 0 || this.syncWanted || this.group !== undefined)) {
        const group = this.group
        this.group = undefined
        this.sealOpenRecord()
        const data = this.buf.subarray(0, this.len)
        // Swap: the spare buffer's last append has resolved (the loop awaits each one).
        const inFlight = this.buf
        this.buf = this.spare
        this.spare = inFlight
        this.len = 0
        const needSync = this.syncWanted || (group?.needsSync ?? false)
        this.syncWanted = false
        try {
          if (data.length > 0) {
            // A group that will not wait for an fdatasync goes out in one write(2) on this
            // thread: a libuv round trip would cost more than the copy into the page cache.
            if (needSync) await this.file.append(data)
            else this.file.appendSync(data)
            this.unsyncedBytes += data.length
            this.stats.groups++
            this.stats.bytes += data.length
            if (group !== undefined && group.writes > this.stats.groupSizeMax) this.stats.groupSizeMax = group.writes
          }
          if (needSync && this.unsyncedBytes > 0) {
            this.unsyncedBytes = 0
            await this.file.sync()
            this.stats.syncs++
          } else if (this.durability === 'interval' && this.unsyncedBytes > 0) {
            this.armTimer()
          }
        } catch (err) {
          this.fail(err)
          group?.reject(this.failure)
          break
        }
        group?.resolve()
        this.shrinkSpare()
      }
    } finally {
      this.running = false
    }
    if (this.failure !== undefined && this.group !== undefined) {
      this.group.reject(this.failure)
      this.group = undefined
      this.len = 0
      this.recStart = -1
    }
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.closed) return
    const fire = (): void => {
      this.timer = undefined
      if (this.failure !== undefined || this.closed) return
      this.syncWanted = true
      this.kick()
    }
    if (this.clock === systemClock) {
      // Unref'd so that a pending interval sync never keeps a process alive.
      const t = setTimeout(fire, this.syncIntervalMs)
      t.unref()
      this.timer = { cancel: () => clearTimeout(t) }
    } else {
      this.timer = this.clock.setTimeout(fire, this.syncIntervalMs)
    }
  }

  /** A huge batch grows a buffer; give the memory back once it is idle. */
  private shrinkSpare(): void {
    if (this.spare.length > 2 * logGroupBytesMax) this.spare = Buffer.allocUnsafe(initialBufferBytes)
  }

  private fail(err: unknown): void {
    const cause = err as NodeJS.ErrnoException
    this.failure = new KvError('KV_IO_ERROR', `commit log ${this.file.path}: write or sync failed (${cause?.code ?? cause?.message ?? String(err)}); the engine must be reopened`, { file: this.file.path, errno: cause?.code }, { cause: err })
    this.timer?.cancel()
    this.timer = undefined
    this.onFailure?.(this.failure)
  }
}
