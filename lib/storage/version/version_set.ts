// The VersionSet owns the manifest (FORMAT.md §4) and the current Version: it recovers the
// live set of tables at open, installs each flush and compaction with one synced manifest
// record, and hands out file numbers and sequence numbers' high-water mark. It does not open
// tables; the engine's table cache does, and is told which tables became obsolete.

import { assert } from '../../assert'
import { corruption } from '../../errors'
import { manifestBytesMax } from '../../constants'
import type { AppendFile, FileSystem } from '../fs/file_system'
import { currentFileName, manifestFileName } from '../filenames'
import { frameRecord, scanRecords } from '../wal/log_format'
import { Version, applyToLevels, emptyLevels } from './version'
import { decodeEdit, encodeEdit, emptyEdit, type TableMeta, type VersionEdit } from './version_edit'

export class VersionSet {
  current: Version
  logNumber = 0
  nextFileNumber = 2
  lastSeq = 0
  manifestNumber = 0
  private manifest: AppendFile | undefined
  /** Called with tables that no live Version names any more (close and delete them). */
  onObsolete: (tables: TableMeta[]) => void = () => {}
  /** Versions that are not current but still referenced (by iterators or jobs). */
  private readonly live = new Set<Version>()

  constructor(private readonly fs: FileSystem, private readonly dir: string) {
    this.current = this.install(new Version(emptyLevels()))
  }

  newFileNumber(): number {
    return this.nextFileNumber++
  }

  /** Does a manifest exist (CURRENT names one)? */
  exists(): boolean {
    return this.fs.exists(currentFileName(this.dir))
  }

  /** Creates a new database's first manifest. */
  create(): void {
    this.manifestNumber = this.newFileNumber()
    this.writeSnapshotManifest()
  }

  /** Reads CURRENT and the manifest it names; a torn last record is dropped. */
  recover(): void {
    const name = this.fs.readFile(currentFileName(this.dir)).toString('utf8').trim()
    const m = /^MANIFEST-(\d+)$/.exec(name)
    if (!m) throw corruption(`CURRENT names '${name}', not a manifest`, { file: currentFileName(this.dir) })
    this.manifestNumber = Number(m[1])
    const file = manifestFileName(this.dir, this.manifestNumber)
    if (!this.fs.exists(file)) throw corruption(`CURRENT names ${name}, which does not exist`, { file })
    const data = this.fs.readFile(file)
    let levels = emptyLevels()
    let validBytes = 0
    for (const item of scanRecords(data)) {
      if (item.type === 'damage') {
        if (item.resumes) throw corruption(`manifest damaged at offset ${item.offset} (${file})`, { file, offset: item.offset })
        break // a torn last edit: it was never installed
      }
      const e = decodeEdit(item.payload, file, item.offset)
      this.applyCounters(e)
      levels = applyToLevels(levels, e.added, e.removed)
      validBytes = item.end
    }
    if (validBytes === 0) throw corruption(`manifest ${file} holds no complete record`, { file, offset: 0 })
    if (validBytes < data.length) this.fs.truncate(file, validBytes)
    this.replaceCurrent(new Version(levels))
    this.manifest = this.fs.openAppend(file, false)
  }

  private applyCounters(e: VersionEdit): void {
    if (e.logNumber !== undefined) this.logNumber = e.logNumber
    if (e.nextFileNumber !== undefined) this.nextFileNumber = Math.max(this.nextFileNumber, e.nextFileNumber)
    if (e.lastSeq !== undefined) this.lastSeq = Math.max(this.lastSeq, e.lastSeq)
    for (const a of e.added) this.nextFileNumber = Math.max(this.nextFileNumber, a.table.fileNumber + 1)
  }

  /** Writes `edit` to the manifest (synced) and makes the result the current Version. */
  logAndApply(edit: VersionEdit): void {
    assert(this.manifest !== undefined, 'manifest not open')
    edit.nextFileNumber = this.nextFileNumber
    if (edit.lastSeq !== undefined) this.lastSeq = Math.max(this.lastSeq, edit.lastSeq)
    const levels = applyToLevels(this.current.levels, edit.added, edit.removed)
    if (this.manifest.size > manifestBytesMax) {
      this.applyCounters(edit)
      this.replaceCurrent(new Version(levels))
      this.manifestNumber = this.newFileNumber()
      this.writeSnapshotManifest()
      return
    }
    this.manifest.appendSync(frameRecord(encodeEdit(edit)))
    this.manifest.syncSync()
    this.applyCounters(edit)
    this.replaceCurrent(new Version(levels))
  }

  /** A new manifest holding one snapshot record, then CURRENT switched to it atomically. */
  private writeSnapshotManifest(): void {
    const file = manifestFileName(this.dir, this.manifestNumber)
    const snap = emptyEdit()
    snap.logNumber = this.logNumber
    snap.nextFileNumber = this.nextFileNumber
    snap.lastSeq = this.lastSeq
    this.current.levels.forEach((tables, level) => tables.forEach((table) => snap.added.push({ level, table })))
    const old = this.manifest
    const f = this.fs.openAppend(file, true)
    f.appendSync(frameRecord(encodeEdit(snap)))
    f.syncSync()
    this.fs.writeFileAtomic(currentFileName(this.dir), Buffer.from(`MANIFEST-${String(this.manifestNumber).padStart(6, '0')}\n`))
    this.manifest = f
    if (old !== undefined) {
      old.closeSync()
      this.fs.unlink(old.path)
    }
  }

  private install(v: Version): Version {
    v.ref()
    v.onRelease = (released) => this.release(released)
    this.live.add(v)
    return v
  }

  private replaceCurrent(v: Version): void {
    const old = this.current
    this.current = this.install(v)
    old.unref()
  }

  /** A Version nobody reads any more: tables named by no live Version are obsolete. */
  private release(v: Version): void {
    this.live.delete(v)
    const stillNamed = new Set<number>()
    for (const lv of this.live) for (const t of lv.tables()) stillNamed.add(t.fileNumber)
    const obsolete = v.tables().filter((t) => !stillNamed.has(t.fileNumber))
    if (obsolete.length > 0) this.onObsolete(obsolete)
  }

  /** File numbers of every table any live Version names. */
  liveTableNumbers(): Set<number> {
    const s = new Set<number>()
    for (const v of this.live) for (const t of v.tables()) s.add(t.fileNumber)
    return s
  }

  close(): void {
    this.manifest?.closeSync()
    this.manifest = undefined
  }
}
