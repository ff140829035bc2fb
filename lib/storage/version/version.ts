// A Version is an immutable set of live tables per level (DESIGN.md, levels). Level 0 is
// ordered newest first (its tables may overlap); levels >= 1 are ordered by key and do not
// overlap. A Version is reference-counted: the VersionSet holds one reference while it is
// current, each iterator or compaction one while it reads; a table is closed and deleted
// only when no Version that names it is referenced (version_set.ts).

import { assert } from '../../assert'
import { compareBytes } from '../../util/bytes'
import { levelsMax } from '../../constants'
import type { TableMeta } from './version_edit'

export class Version {
  refs = 0
  /** Called when the last reference is released. */
  onRelease: ((v: Version) => void) | undefined

  /** The deepest level that holds any table (0 if none): reads stop there. */
  readonly deepest: number

  constructor(readonly levels: readonly (readonly TableMeta[])[]) {
    assert(levels.length === levelsMax, 'a version has every level')
    let d = 0
    for (let l = levelsMax - 1; l > 0 && d === 0; l--) if (levels[l]!.length > 0) d = l
    this.deepest = d
  }

  ref(): this {
    this.refs++
    return this
  }

  unref(): void {
    assert(this.refs > 0, 'version released more often than referenced')
    if (--this.refs === 0) this.onRelease?.(this)
  }

  tables(): TableMeta[] {
    return this.levels.flat()
  }

  levelBytes(level: number): number {
    let n = 0
    for (const t of this.levels[level]!) n += t.size
    return n
  }

  /** Tables of `level` whose key range intersects [smallest, largest] (inclusive). */
  overlapping(level: number, smallest: Buffer, largest: Buffer): TableMeta[] {
    return this.levels[level]!.filter((t) => compareBytes(t.largest, smallest) >= 0 && compareBytes(t.smallest, largest) <= 0)
  }

  /** The deepest level that holds any table (0 if none). */
  deepestNonEmptyLevel(): number {
    return this.deepest
  }

  /** For levels >= 1: the index of the table that may hold `key`, or -1 (binary search). */
  findTable(level: number, key: Buffer): number {
    const tables = this.levels[level]!
    const i = firstTableEndingAtOrAfter(tables, key)
    return i < tables.length && compareBytes(tables[i]!.smallest, key) <= 0 ? i : -1
  }
}

/** In a level's key-ordered tables: the first whose largest key is >= key (or tables.length). */
export function firstTableEndingAtOrAfter(tables: readonly TableMeta[], key: Buffer): number {
  let lo = 0
  let hi = tables.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareBytes(tables[mid]!.largest, key) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Applies removals and additions to `base`, keeping each level's order (see the header). */
export function applyToLevels(
  base: readonly (readonly TableMeta[])[],
  added: readonly { level: number; table: TableMeta }[],
  removed: readonly { level: number; fileNumber: number }[],
): TableMeta[][] {
  const levels = base.map((l) => l.slice())
  for (const r of removed) {
    const l = levels[r.level]!
    const i = l.findIndex((t) => t.fileNumber === r.fileNumber)
    assert(i >= 0, `edit removes table ${r.fileNumber} that level ${r.level} does not hold`)
    l.splice(i, 1)
  }
  for (const a of added) levels[a.level]!.push(a.table)
  levels[0]!.sort((a, b) => b.fileNumber - a.fileNumber)
  for (let l = 1; l < levels.length; l++) {
    const tables = levels[l]!
    tables.sort((a, b) => compareBytes(a.smallest, b.smallest))
    for (let i = 1; i < tables.length; i++) {
      assert(compareBytes(tables[i - 1]!.largest, tables[i]!.smallest) < 0, `level ${l} tables overlap after an edit`)
    }
  }
  return levels
}

export function emptyLevels(): TableMeta[][] {
  return Array.from({ length: levelsMax }, () => [])
}
