// Open SSTable readers by file number. A table is opened on first use and stays open while
// any live Version names it; when the VersionSet reports it obsolete, it is closed and its
// file deleted. Bloom statistics of closed tables are kept in the totals.

import type { FileSystem } from './fs/file_system'
import { tableFileName } from './filenames'
import { openTableFile } from './mmap'
import type { ReaderKind } from './options'
import { TableReader } from './sstable/table_reader'
import type { TableMeta } from './version/version_edit'

export class TableCache {
  private readonly open = new Map<number, TableReader>()
  private closedBloomChecked = 0
  private closedBloomUseful = 0

  constructor(private readonly fs: FileSystem, private readonly dir: string, private readonly reader: ReaderKind) {}

  get(t: TableMeta): TableReader {
    let r = this.open.get(t.fileNumber)
    if (r === undefined) {
      r = TableReader.open(openTableFile(tableFileName(this.dir, t.fileNumber), { reader: this.reader }))
      this.open.set(t.fileNumber, r)
    }
    return r
  }

  /** Closes and deletes tables that no live Version names. */
  evict(tables: readonly TableMeta[]): void {
    for (const t of tables) {
      this.closeOne(t.fileNumber)
      this.fs.unlink(tableFileName(this.dir, t.fileNumber))
    }
  }

  private closeOne(n: number): void {
    const r = this.open.get(n)
    if (r === undefined) return
    this.closedBloomChecked += r.stats.bloomChecked
    this.closedBloomUseful += r.stats.bloomUseful
    r.close()
    this.open.delete(n)
  }

  bloomStats(): { checked: number; useful: number } {
    let checked = this.closedBloomChecked
    let useful = this.closedBloomUseful
    for (const r of this.open.values()) {
      checked += r.stats.bloomChecked
      useful += r.stats.bloomUseful
    }
    return { checked, useful }
  }

  closeAll(): void {
    for (const n of [...this.open.keys()]) this.closeOne(n)
  }
}
