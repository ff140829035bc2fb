// Commit log recovery: FORMAT.md §2 "Recovery". Reads one segment through the FileSystem seam
// and yields its write groups in order, applying the policy for bad records:
//
//   - damage that runs to the end of the NEWEST segment is a torn tail: `truncateAt` is set to
//     its offset (those writes were never acknowledged under 'sync'); with `truncate: true` the
//     reader truncates the file itself once the scan is complete.
//   - any other damage (a good record follows it, or the segment is not the newest) is
//     KV_CORRUPTION naming the file and offset, unless `repair: true`: then the bytes are
//     skipped and listed in `dropped`.
//   - a good record with an unknown payload version is KV_UNSUPPORTED_VERSION (always).
//   - a good record whose payload does not decode is corruption, under the same policy.
//
// Keys and values of yielded entries are views into the segment's buffer (one read of the
// whole file): copy them to keep them independent of it.

import { corruption } from '../../errors'
import type { FileSystem } from '../fs/file_system'
import { decodeGroup, scanRecords, type WriteGroup } from './log_format'

export interface LogReaderOptions {
  /** The newest segment may end in a torn tail; older ones may not (default true). */
  newest?: boolean
  /** Skip damage in the middle instead of failing (reported in `dropped`). */
  repair?: boolean
  /** Truncate a torn tail through the FileSystem when the scan completes (default false). */
  truncate?: boolean
}

export interface DroppedRange {
  file: string
  offset: number
  bytesDropped: number
  reason: string
}

export class LogReader {
  /** Offset of a torn tail to cut off, when one was found. */
  truncateAt: number | undefined
  /** Damage skipped under `repair`. */
  readonly dropped: DroppedRange[] = []
  /** Offset after the last good record yielded so far. */
  endOffset = 0
  /** Records and entries yielded. */
  records = 0
  entries = 0
  /** Highest sequence number yielded (-1 if none). */
  lastSeq = -1

  private readonly newest: boolean
  private readonly repair: boolean
  private readonly truncate: boolean

  constructor(private readonly fs: FileSystem, readonly file: string, options: LogReaderOptions = {}) {
    this.newest = options.newest ?? true
    this.repair = options.repair ?? false
    this.truncate = options.truncate ?? false
  }

  /** Yields the segment's write groups in file order. */
  *groups(): Generator<WriteGroup> {
    const buf = this.fs.readFile(this.file)
    for (const item of scanRecords(buf)) {
      if (item.type === 'damage') {
        if (!item.resumes && this.newest) {
          this.truncateAt = item.offset
          break
        }
        this.damage(item.offset, item.end - item.offset, item.resumes ? 'bad record' : 'bad record running to the end of a sealed segment')
        continue
      }
      let group: WriteGroup
      try {
        group = decodeGroup(item.payload, this.file, item.offset)
      } catch (err) {
        if (!this.repair || (err as { code?: string }).code !== 'KV_CORRUPTION') throw err
        this.dropped.push({ file: this.file, offset: item.offset, bytesDropped: item.end - item.offset, reason: (err as Error).message })
        continue
      }
      this.endOffset = item.end
      this.records++
      this.entries += group.entries.length
      if (group.entries.length > 0) this.lastSeq = Math.max(this.lastSeq, group.firstSeq + group.entries.length - 1)
      yield group
    }
    if (this.truncateAt !== undefined && this.truncate) this.fs.truncate(this.file, this.truncateAt)
  }

  /** Reads the whole segment into an array (tests, tools). */
  readAll(): WriteGroup[] {
    return [...this.groups()]
  }

  private damage(offset: number, bytes: number, reason: string): void {
    if (!this.repair) {
      throw corruption(`commit log ${this.file} is damaged at offset ${offset} (${bytes} bytes: ${reason}); open with repair to skip it`, { file: this.file, offset, bytes })
    }
    this.dropped.push({ file: this.file, offset, bytesDropped: bytes, reason })
  }
}
