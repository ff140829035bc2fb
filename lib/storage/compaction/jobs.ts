// The background jobs of the engine (DESIGN.md): a flush builds a level-0 table from the log
// segments of an immutable memtable; a compaction merges tables into a level. Both run in a
// compaction-pool thread (worker.ts) or inline, read and write the real disk directly, sync
// every table they write before returning, and return what the manifest must record. The
// engine installs the result; until then the new files are orphans that open would delete.

import fs from 'node:fs'
import { assert } from '../../assert'
import { compareBytes } from '../../util/bytes'
import { tableBytesTarget } from '../../constants'
import { RealFs } from '../fs/real_fs'
import { tableFileName } from '../filenames'
import { openTableFile } from '../mmap'
import { TableBuilder } from '../sstable/table_builder'
import { TableReader } from '../sstable/table_reader'
import { LogReader } from '../wal/log_reader'
import { Memtable } from '../memtable'
import { MergingIterator } from '../iterator/merging_iterator'
import { Kind, type Entry, type InternalIterator } from '../types'
import type { TableMeta } from '../version/version_edit'
import { CompactionFilter, Decision } from './compaction_filter'
import type { ReaderKind } from '../options'

export interface TableOptions {
  blockBytes: number
  bloomBitsPerKey: number
}

export interface FlushTask {
  kind: 'flush'
  dir: string
  logPaths: string[]
  repair: boolean
  fileNumber: number
  smallestSnapshot: number
  table: TableOptions
}

export interface CompactionTask {
  kind: 'compaction'
  dir: string
  inputs: string[]
  /** File numbers reserved for outputs, used in order. */
  fileNumbers: number[]
  bottommost: boolean
  smallestSnapshot: number
  nowMs: number
  table: TableOptions
  reader: ReaderKind
  bytesPerSec: number
}

export type Task = FlushTask | CompactionTask

export interface JobResult {
  tables: TableMeta[]
  bytesRead: number
  bytesWritten: number
  entriesIn: number
  entriesOut: number
  ms: number
}

export function runTask(task: Task): JobResult {
  return task.kind === 'flush' ? runFlush(task) : runCompaction(task)
}

/** Builds one table from log segments (all entries, sorted, shadowed versions dropped). */
export function runFlush(task: FlushTask): JobResult {
  const started = performance.now()
  const realFs = new RealFs()
  const entries: Entry[] = []
  let bytesRead = 0
  for (let i = 0; i < task.logPaths.length; i++) {
    const path = task.logPaths[i]!
    bytesRead += fs.statSync(path).size
    const reader = new LogReader(realFs, path, { newest: i === task.logPaths.length - 1, repair: task.repair })
    for (const group of reader.groups()) for (const e of group.entries) entries.push(e)
  }
  const sorted = sortEntries(entries, task.smallestSnapshot)
  const out = new TableWriter(task.dir, task.table, [task.fileNumber], 0)
  const filter = new CompactionFilter(task.smallestSnapshot, false, 0)
  let prev: Buffer | undefined
  let kept = 0
  for (const e of sorted) {
    if (prev === undefined || compareBytes(prev, e.key) !== 0) filter.startKey()
    prev = e.key
    if (filter.decide(e.seq, e.kind, e.expiresAtMs) === Decision.Drop) continue
    out.add(e.key, e.seq, e.kind, e.expiresAtMs, e.value, false)
    kept++
  }
  const tables = out.finish()
  return { tables, bytesRead, bytesWritten: out.bytesWritten, entriesIn: entries.length, entriesOut: kept, ms: performance.now() - started }
}

/**
 * The entries in FORMAT.md §1 order (key ascending, seq descending): the memtable's own
 * ordering (a Map by the key's latin1 string, the distinct strings sorted natively). Versions
 * no reader can see are dropped as they come (the memtable's pruning: of a key's versions at
 * or below `smallestSnapshot`, all but the newest when they come in seq order, as a log's do;
 * the compaction filter drops any left); the default keeps every version. A
 * comparator sort took 690-1140 ms for 300 k entries with a cluster node's keys (a shared
 * partition prefix, then long runs of equal digits), against 130-240 ms this way; a whole
 * flush of 200 k such entries, 1.1-1.3 s against 0.62 s.
 */
export function sortEntries(entries: readonly Entry[], smallestSnapshot = -1): Entry[] {
  const mt = new Memtable(smallestSnapshot < 0 ? {} : { oldestSnapshotSeq: () => smallestSnapshot })
  for (const e of entries) mt.add(e.key, e.seq, e.kind, e.expiresAtMs, e.value)
  return mt.sortedEntries()
}

/** Merges input tables into tables of about tableBytesTarget each. */
export function runCompaction(task: CompactionTask): JobResult {
  const started = performance.now()
  const readers = task.inputs.map((p) => TableReader.open(openTableFile(p, { reader: task.reader })))
  let bytesRead = 0
  for (const r of readers) bytesRead += r.size
  const merged: InternalIterator = new MergingIterator(readers.map((r) => r.iterator(false)), false)
  const filter = new CompactionFilter(task.smallestSnapshot, task.bottommost, task.nowMs)
  const out = new TableWriter(task.dir, task.table, task.fileNumbers, task.bytesPerSec)
  let entriesIn = 0
  let entriesOut = 0
  let prev = Buffer.alloc(0)
  let first = true
  try {
    for (merged.seekToStart(); merged.valid(); merged.next()) {
      entriesIn++
      const key = merged.key()
      const newKey = first || compareBytes(prev, key) !== 0
      if (newKey) {
        filter.startKey()
        prev = Buffer.from(key)
        first = false
      }
      const seq = merged.seq()
      const d = filter.decide(seq, merged.kind(), merged.expiresAtMs())
      if (d === Decision.Drop) continue
      const zero = task.bottommost && seq <= task.smallestSnapshot
      if (d === Decision.KeepAsTombstone) out.add(prev, zero ? 0 : seq, Kind.Del, 0, emptyValue, newKey)
      else out.add(prev, zero ? 0 : seq, merged.kind(), merged.expiresAtMs(), merged.value(), newKey)
      entriesOut++
    }
  } finally {
    merged.close()
    for (const r of readers) r.close()
  }
  const tables = out.finish()
  return { tables, bytesRead, bytesWritten: out.bytesWritten, entriesIn, entriesOut, ms: performance.now() - started }
}

const emptyValue = Buffer.alloc(0)
const writeBufferBytes = 1024 * 1024

/** Writes a sequence of tables, cutting a new one at a key boundary past the target size. */
class TableWriter {
  private builder: TableBuilder | undefined
  private fd = -1
  private fileNumber = -1
  private next = 0
  private pending = Buffer.allocUnsafe(writeBufferBytes)
  private pendingLength = 0
  private readonly started = performance.now()
  private readonly tables: TableMeta[] = []
  bytesWritten = 0

  constructor(
    private readonly dir: string,
    private readonly options: TableOptions,
    private readonly fileNumbers: number[],
    private readonly bytesPerSec: number,
  ) {}

  add(key: Buffer, seq: number, kind: Kind, expiresAtMs: number, value: Buffer, newKey: boolean): void {
    if (this.builder !== undefined && newKey && this.builder.estimatedSize() >= tableBytesTarget) this.finishTable()
    if (this.builder === undefined) this.startTable()
    this.builder!.add(key, seq, kind, expiresAtMs, value)
  }

  private startTable(): void {
    assert(this.next < this.fileNumbers.length, 'compaction ran out of reserved file numbers')
    this.fileNumber = this.fileNumbers[this.next++]!
    this.fd = fs.openSync(tableFileName(this.dir, this.fileNumber), 'w')
    this.builder = new TableBuilder({ ...this.options, zeroSeqs: false }, (chunk) => this.write(chunk))
  }

  private write(chunk: Uint8Array): void {
    if (this.pendingLength + chunk.length > this.pending.length) this.drain()
    if (chunk.length > this.pending.length) {
      writeFully(this.fd, chunk)
    } else {
      this.pending.set(chunk, this.pendingLength)
      this.pendingLength += chunk.length
    }
    this.bytesWritten += chunk.length
  }

  private drain(): void {
    if (this.pendingLength === 0) return
    writeFully(this.fd, this.pending.subarray(0, this.pendingLength))
    this.pendingLength = 0
    this.throttle()
  }

  /** Sleeps this thread while output runs ahead of bytesPerSec (a pool thread may block). */
  private throttle(): void {
    if (this.bytesPerSec <= 0) return
    const aheadMs = (this.bytesWritten / this.bytesPerSec) * 1000 - (performance.now() - this.started)
    if (aheadMs > 1) Atomics.wait(sleeper, 0, 0, Math.min(aheadMs, 1000))
  }

  private finishTable(): void {
    const b = this.builder!
    const result = b.finish()
    this.drain()
    fs.fdatasyncSync(this.fd)
    fs.closeSync(this.fd)
    const p = result.properties
    this.tables.push({
      fileNumber: this.fileNumber, size: result.size, smallest: Buffer.from(p.smallest), largest: Buffer.from(p.largest),
      minSeq: p.minSeq, maxSeq: p.maxSeq, entries: p.entries,
    })
    this.builder = undefined
  }

  finish(): TableMeta[] {
    if (this.builder !== undefined) this.finishTable()
    if (this.tables.length > 0) syncDir(this.dir)
    return this.tables
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

function writeFully(fd: number, data: Uint8Array): void {
  let off = 0
  while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off)
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}
