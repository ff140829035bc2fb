// `ringwood check DIR`: an offline consistency check of a data directory. Read-only (it never
// truncates or deletes): the manifest against the files, every table's every block checksum,
// key order inside each table, each table's key range and entry count against the manifest,
// non-overlap of levels >= 1, and every commit log segment's records. Orphan files are reported
// as warnings (open deletes them).

import path from 'node:path'
import { compareBytes } from '../util/bytes'
import { RealFs } from './fs/real_fs'
import type { FileSystem } from './fs/file_system'
import { currentFileName, logFileName, manifestFileName, parseFileName, tableFileName } from './filenames'
import { openTableFile } from './mmap'
import { TableReader } from './sstable/table_reader'
import { decodeGroup, scanRecords } from './wal/log_format'
import { applyToLevels, emptyLevels } from './version/version'
import { decodeEdit, type TableMeta } from './version/version_edit'

export interface CheckReport {
  ok: boolean
  problems: string[]
  warnings: string[]
  tables: number
  entries: number
  logRecords: number
}

export function checkDirectory(dir: string, fs: FileSystem = new RealFs()): CheckReport {
  const report: CheckReport = { ok: true, problems: [], warnings: [], tables: 0, entries: 0, logRecords: 0 }
  const problem = (m: string): void => {
    report.ok = false
    report.problems.push(m)
  }
  const current = currentFileName(dir)
  if (!fs.exists(current)) {
    problem(`${current} is missing: not a Ringwood data directory, or its CURRENT file was lost`)
    return report
  }
  const name = fs.readFile(current).toString('utf8').trim()
  const m = /^MANIFEST-(\d+)$/.exec(name)
  if (!m) {
    problem(`CURRENT names '${name}', not a manifest`)
    return report
  }
  const manifestNumber = Number(m[1])
  const manifest = manifestFileName(dir, manifestNumber)
  let levels: TableMeta[][] = emptyLevels()
  let logNumber = 0
  try {
    const data = fs.readFile(manifest)
    for (const item of scanRecords(data)) {
      if (item.type === 'damage') {
        if (item.resumes) problem(`${manifest}: damaged record at offset ${item.offset}`)
        else report.warnings.push(`${manifest}: torn last record at offset ${item.offset} (dropped at open)`)
        if (item.resumes) continue
        break
      }
      const e = decodeEdit(item.payload, manifest, item.offset)
      if (e.logNumber !== undefined) logNumber = e.logNumber
      levels = applyToLevels(levels, e.added, e.removed)
    }
  } catch (err) {
    problem(`${manifest}: ${(err as Error).message}`)
    return report
  }
  const live = new Set<number>()
  levels.forEach((tables, level) => {
    for (const t of tables) {
      live.add(t.fileNumber)
      checkTable(dir, level, t, report, problem)
    }
  })
  for (const n of fs.list(dir).sort()) {
    const p = parseFileName(n)
    const full = path.join(dir, n)
    if (p === undefined) report.warnings.push(`${full}: not a Ringwood file`)
    else if (p.kind === 'table' && !live.has(p.number)) report.warnings.push(`${full}: orphan table (deleted at open)`)
    else if (p.kind === 'temp') report.warnings.push(`${full}: temporary file (deleted at open)`)
    else if (p.kind === 'manifest' && p.number !== manifestNumber) report.warnings.push(`${full}: old manifest (deleted at open)`)
    else if (p.kind === 'log' && p.number < logNumber) report.warnings.push(`${full}: flushed log segment (deleted at open)`)
    else if (p.kind === 'log') checkLog(logFileName(dir, p.number), fs, report, problem)
  }
  return report
}

function checkTable(dir: string, level: number, t: TableMeta, report: CheckReport, problem: (m: string) => void): void {
  const file = tableFileName(dir, t.fileNumber)
  let reader: TableReader | undefined
  try {
    reader = TableReader.open(openTableFile(file, { reader: 'pread' }))
    if (reader.size !== t.size) problem(`${file}: ${reader.size} bytes, the manifest says ${t.size}`)
    const it = reader.iterator(false)
    let prevKey: Buffer | undefined
    let prevSeq = 0
    let entries = 0
    for (it.seekToStart(); it.valid(); it.next()) {
      const k = it.key()
      if (prevKey !== undefined) {
        const c = compareBytes(prevKey, k)
        if (c > 0 || (c === 0 && it.seq() >= prevSeq)) problem(`${file}: entries out of order at entry ${entries}`)
      } else if (compareBytes(k, t.smallest) !== 0) problem(`${file}: first key differs from the manifest's smallest`)
      prevKey = Buffer.from(k)
      prevSeq = it.seq()
      entries++
    }
    it.close()
    if (prevKey !== undefined && compareBytes(prevKey, t.largest) !== 0) problem(`${file}: last key differs from the manifest's largest`)
    if (entries !== t.entries) problem(`${file}: ${entries} entries, the manifest says ${t.entries}`)
    report.tables++
    report.entries += entries
  } catch (err) {
    problem(`${file} (level ${level}): ${(err as Error).message}`)
  } finally {
    reader?.close()
  }
}

function checkLog(file: string, fs: FileSystem, report: CheckReport, problem: (m: string) => void): void {
  const data = fs.readFile(file)
  for (const item of scanRecords(data)) {
    if (item.type === 'damage') {
      if (item.resumes) problem(`${file}: damaged record at offset ${item.offset} (${item.end - item.offset} bytes)`)
      else report.warnings.push(`${file}: torn tail at offset ${item.offset} (cut off at open)`)
      continue
    }
    try {
      decodeGroup(item.payload, file, item.offset)
      report.logRecords++
    } catch (err) {
      problem((err as Error).message)
    }
  }
}
