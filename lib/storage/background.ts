// The engine's background work (lib/storage/DESIGN.md): flushes of immutable memtables, one at
// a time and oldest first, and compactions, one at a time, chosen by compaction/picker.ts and
// run in the compaction pool. Each result is installed with one manifest edit. A failure here
// (an I/O error, a corrupt input table) fails the engine for writes, like a failed log sync.

import { KvError } from '../errors'
import { garbageCheckMsMax, tableBytesTarget } from '../constants'
import type { TimerHandle } from '../util/clock'
import { nextGarbageDueMs, pickCompaction, pickGarbageCompaction, planFullCompaction, type CompactionPlan, type GarbageFacts } from './compaction/picker'
import { inlineRunner, pooledRunner, type JobRunner } from './compaction/pool'
import type { JobResult } from './compaction/jobs'
import type { Engine } from './engine'
import type { FileSystem } from './fs/file_system'
import { tableFileName } from './filenames'
import type { ResolvedOptions } from './options'
import { emptyEdit, type TableMeta } from './version/version_edit'

export interface BackgroundStats {
  flushes: number
  flushBytesWritten: number
  compactions: number
  /** Of compactions, those run for garbage (DESIGN.md, "Garbage compaction"). */
  garbageCompactions: number
  compactionBytesRead: number
  compactionBytesWritten: number
}

export class Background {
  readonly stats: BackgroundStats = { flushes: 0, flushBytesWritten: 0, compactions: 0, garbageCompactions: 0, compactionBytesRead: 0, compactionBytesWritten: 0 }
  private readonly runner: JobRunner & { release?(): Promise<void> }
  private flushing: Promise<void> | undefined
  private compacting: Promise<void> | undefined
  private manual = false
  private closing = false
  private readonly cursor: (Buffer | undefined)[] = []
  /** Wakes the picker when tables' TTLs pass and no write does (DESIGN.md, "Garbage compaction"). */
  private garbageTimer: TimerHandle | undefined

  constructor(
    private readonly engine: Engine,
    private readonly options: ResolvedOptions,
    private readonly fs: FileSystem,
  ) {
    this.runner = options.compactionInline ? inlineRunner : pooledRunner()
  }

  /** True while a flush or a compaction runs, or compactAll (the next job is scheduled as the last ends). */
  get busy(): boolean {
    return this.flushing !== undefined || this.compacting !== undefined || this.manual
  }

  scheduleFlush(): void {
    // After a failure the engine refuses writes; retrying the same job would only repeat it.
    if (this.flushing !== undefined || this.engine.imms.length === 0 || this.failure !== undefined) return
    this.flushing = this.flushOldest()
      .catch((err) => this.failed(err))
      .finally(() => {
        this.flushing = undefined
        this.engine.releaseWriters()
        if (!this.closing) {
          this.scheduleFlush()
          this.scheduleCompaction()
        }
      })
  }

  private async flushOldest(): Promise<void> {
    const e = this.engine
    const imm = e.imms[0]!
    await imm.logClosed
    const result = await this.runner.run({
      kind: 'flush',
      dir: e.dir,
      logPaths: imm.logPaths,
      repair: this.options.repair,
      fileNumber: e.versions.newFileNumber(),
      smallestSnapshot: e.smallestSnapshot(),
      table: this.tableOptions(),
    })
    const edit = emptyEdit()
    for (const table of result.tables) edit.added.push({ level: 0, table })
    edit.logNumber = e.nextLogNumberAfterOldest()
    edit.lastSeq = e.lastSequence
    e.versions.logAndApply(edit)
    e.imms.shift()
    for (const p of imm.logPaths) this.unlink(p)
    this.stats.flushes++
    this.stats.flushBytesWritten += result.bytesWritten
  }

  scheduleCompaction(): void {
    if (this.compacting !== undefined || this.manual || this.closing || this.failure !== undefined) return
    const v = this.engine.versions.current
    const now = this.options.clock.nowMs()
    const snapshot = this.engine.smallestSnapshot()
    const plan = pickCompaction(v, this.cursor, new Set()) ?? pickGarbageCompaction(v, this.factsOf, now, snapshot)
    if (plan === undefined) return this.armGarbageTimer(nextGarbageDueMs(v, this.factsOf, now, snapshot), now)
    this.compacting = this.compact(plan)
      .catch((err) => this.failed(err))
      .finally(() => {
        this.compacting = undefined
        this.engine.releaseWriters()
        this.scheduleCompaction()
      })
  }

  /** A table's garbage facts: its properties (the table is open while a version names it); undefined if it cannot be opened. */
  private readonly factsOf = (t: TableMeta): GarbageFacts | undefined => {
    try {
      return this.engine.tables.get(t).properties
    } catch {
      return undefined // a table that cannot be read fails the reads that need it, not this
    }
  }

  /** Looks again at `dueMs` (at most garbageCheckMsMax from now, as tables can change meanwhile). */
  private armGarbageTimer(dueMs: number | undefined, nowMs: number): void {
    this.garbageTimer?.cancel()
    this.garbageTimer = undefined
    if (dueMs === undefined) return
    const ms = Math.min(garbageCheckMsMax, Math.max(0, dueMs - nowMs))
    this.garbageTimer = this.options.clock.setTimeout(
      () => {
        this.garbageTimer = undefined
        this.scheduleCompaction()
      },
      ms,
      { unref: true },
    )
  }

  private async compact(plan: Omit<CompactionPlan, 'score'>): Promise<void> {
    const e = this.engine
    const inputs = [...plan.inputs, ...plan.outputs]
    const bytes = inputs.reduce((a, t) => a + t.size, 0)
    const fileNumbers: number[] = []
    for (let i = Math.ceil(bytes / tableBytesTarget) + 2; i > 0; i--) fileNumbers.push(e.versions.newFileNumber())
    const result: JobResult = await this.runner.run({
      kind: 'compaction',
      dir: e.dir,
      inputs: inputs.map((t) => tableFileName(e.dir, t.fileNumber)),
      fileNumbers,
      bottommost: plan.bottommost,
      smallestSnapshot: e.smallestSnapshot(),
      nowMs: this.options.clock.nowMs(),
      table: this.tableOptions(),
      reader: this.options.reader,
      bytesPerSec: this.options.compactionBytesPerSec,
    })
    const v = e.versions.current
    const edit = emptyEdit()
    for (const t of inputs) {
      const level = v.levels.findIndex((l) => l.some((x) => x.fileNumber === t.fileNumber))
      edit.removed.push({ level, fileNumber: t.fileNumber })
    }
    for (const table of result.tables) edit.added.push({ level: plan.outputLevel, table })
    e.versions.logAndApply(edit)
    const last = plan.inputs.reduce<Buffer | undefined>((m, t) => (m === undefined || Buffer.compare(t.largest, m) > 0 ? t.largest : m), undefined)
    this.cursor[plan.level] = last
    this.stats.compactions++
    if (plan.reason === 'garbage') this.stats.garbageCompactions++
    this.stats.compactionBytesRead += result.bytesRead
    this.stats.compactionBytesWritten += result.bytesWritten
    // Reserved numbers that no output used name no file; nothing to clean.
  }

  /** Merges every table into the deepest level (waits for running work first). */
  async compactAll(): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    this.manual = true
    try {
      while (this.compacting !== undefined) await this.compacting
      for (;;) {
        const plan = planFullCompaction(this.engine.versions.current)
        if (plan === undefined) break
        await this.compact(plan)
        if (planFullCompaction(this.engine.versions.current)?.inputs.length === 0) break
      }
    } finally {
      this.manual = false
      this.engine.releaseWriters()
      this.scheduleCompaction()
    }
  }

  /** Resolves when no immutable memtable is waiting (or a flush failed). */
  async whenFlushed(): Promise<void> {
    while (this.flushing !== undefined) {
      await this.flushing
      if (this.failure !== undefined) throw this.failure
    }
    // After a failure no flush starts: what waits was not written.
    if (this.failure !== undefined && this.engine.imms.length > 0) throw this.failure
  }

  private failure: KvError | undefined

  private failed(err: unknown): void {
    const kv = err instanceof KvError ? err : new KvError('KV_IO_ERROR', `background work failed: ${(err as Error).message}`, {}, { cause: err })
    this.failure ??= kv
    this.engine.fail(kv)
  }

  private tableOptions(): { blockBytes: number; bloomBitsPerKey: number } {
    return { blockBytes: this.options.blockBytes, bloomBitsPerKey: this.options.bloomBitsPerKey }
  }

  private unlink(p: string): void {
    try {
      this.fs.unlink(p)
    } catch {
      // An undeleted flushed log is deleted at the next open (below logNumber).
    }
  }

  /** No job starts from now on (the engine is closing); running ones finish (close waits for them). */
  beginClose(): void {
    this.closing = true
    this.garbageTimer?.cancel()
    this.garbageTimer = undefined
  }

  async close(): Promise<void> {
    this.beginClose()
    while (this.flushing !== undefined || this.compacting !== undefined) {
      await Promise.all([this.flushing, this.compacting])
    }
    await this.runner.release?.()
  }
}
