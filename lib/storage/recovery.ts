// Opening a data directory (lib/storage/DESIGN.md, recovery): read or create the manifest,
// delete files no live state names (orphans of interrupted jobs, old manifests, flushed logs,
// temp files), and replay the commit log segments that are not yet in tables into a memtable.
// The engine flushes that memtable in the background like any other.

import { KvError, corruption, invalidArgument } from '../errors'
import type { FileSystem } from './fs/file_system'
import { logFileName, parseFileName, tableFileName } from './filenames'
import { Memtable } from './memtable'
import type { ResolvedOptions } from './options'
import type { ImmutableMemtable } from './engine'
import { LogReader, type DroppedRange } from './wal/log_reader'
import type { VersionSet } from './version/version_set'
import path from 'node:path'

export interface RepairReport {
  /** Damaged commit-log ranges skipped because the engine was opened with `repair`. */
  dropped: DroppedRange[]
  /** Torn tails cut off (normal after a crash; the writes in them were never acknowledged under `sync`). */
  truncated: { file: string; offset: number }[]
  /** Write groups and entries replayed from the log. */
  replayedEntries: number
}

export function recoverEngine(
  fs: FileSystem,
  dir: string,
  versions: VersionSet,
  opts: ResolvedOptions,
): { recovered: ImmutableMemtable | undefined; report: RepairReport } {
  const names = fs.list(dir)
  const parsed = names.map((n) => ({ name: n, p: parseFileName(n) }))
  if (versions.exists()) {
    if (opts.errorIfExists) throw invalidArgument(`a database already exists in ${dir} (errorIfExists is true)`, { exists: true })
    versions.recover()
  } else {
    if (parsed.some((f) => f.p?.kind === 'table' || f.p?.kind === 'manifest')) {
      throw corruption(`${dir} holds tables or manifests but no CURRENT file`, { file: path.join(dir, 'CURRENT') })
    }
    versions.create()
  }
  // File numbers handed out before a crash may be past the manifest's counter.
  for (const f of parsed) if (f.p !== undefined) versions.nextFileNumber = Math.max(versions.nextFileNumber, f.p.number + 1)

  const live = versions.liveTableNumbers()
  for (const n of live) {
    const file = tableFileName(dir, n)
    if (!fs.exists(file)) throw corruption(`the manifest names table ${file}, which is missing`, { file })
  }
  const logs: number[] = []
  for (const { name, p } of parsed) {
    if (p === undefined) continue
    const full = path.join(dir, name)
    if (p.kind === 'temp') fs.unlink(full)
    else if (p.kind === 'table' && !live.has(p.number)) fs.unlink(full)
    else if (p.kind === 'manifest' && p.number !== versions.manifestNumber) fs.unlink(full)
    else if (p.kind === 'log') {
      if (p.number < versions.logNumber) fs.unlink(full)
      else logs.push(p.number)
    }
  }
  logs.sort((a, b) => a - b)
  return replayLogs(fs, dir, logs, versions, opts)
}

function replayLogs(
  fs: FileSystem,
  dir: string,
  logs: number[],
  versions: VersionSet,
  opts: ResolvedOptions,
): { recovered: ImmutableMemtable | undefined; report: RepairReport } {
  const report: RepairReport = { dropped: [], truncated: [], replayedEntries: 0 }
  if (logs.length === 0) return { recovered: undefined, report }
  const mem = new Memtable()
  let lastSeq = versions.lastSeq
  const logPaths: string[] = []
  for (let i = 0; i < logs.length; i++) {
    const file = logFileName(dir, logs[i]!)
    logPaths.push(file)
    const reader = new LogReader(fs, file, { newest: i === logs.length - 1, repair: opts.repair, truncate: true })
    try {
      for (const g of reader.groups()) {
        for (const e of g.entries) {
          // Entries are views into the segment's buffer: the memtable keeps them as they are.
          mem.add(e.key, e.seq, e.kind, e.expiresAtMs, e.value)
          if (e.seq > lastSeq) lastSeq = e.seq
          report.replayedEntries++
        }
      }
    } catch (err) {
      if (err instanceof KvError && err.code === 'KV_CORRUPTION' && !opts.repair) {
        throw new KvError('KV_CORRUPTION', `${err.message} (open with { repair: true } to skip the damaged records)`, err.details)
      }
      throw err
    }
    report.dropped.push(...reader.dropped)
    if (reader.truncateAt !== undefined) report.truncated.push({ file, offset: reader.truncateAt })
  }
  versions.lastSeq = lastSeq
  return { recovered: { mem, logPaths, logNumber: logs[0]!, logClosed: Promise.resolve() }, report }
}
