// A version edit: one atomic change to the set of live tables (FORMAT.md §4), and its encoding
// as a manifest record payload. A flush adds a table and advances logNumber; a compaction
// removes its inputs and adds its outputs; the first record of a manifest is a snapshot.

import { assert } from '../../assert'
import { KvError, corruption } from '../../errors'
import { varintLength, writeVarint, readVarint, varintEnd } from '../../util/varint'
import { levelsMax } from '../../constants'

/** What the manifest records about one table (FORMAT.md §4, tag 4). */
export interface TableMeta {
  fileNumber: number
  size: number
  smallest: Buffer
  largest: Buffer
  minSeq: number
  maxSeq: number
  entries: number
}

export interface VersionEdit {
  logNumber?: number
  nextFileNumber?: number
  lastSeq?: number
  added: { level: number; table: TableMeta }[]
  removed: { level: number; fileNumber: number }[]
}

const formatVersion = 1
const enum Tag {
  LogNumber = 1,
  NextFileNumber = 2,
  LastSeq = 3,
  AddTable = 4,
  RemoveTable = 5,
}

export function emptyEdit(): VersionEdit {
  return { added: [], removed: [] }
}

export function encodeEdit(e: VersionEdit): Buffer {
  let len = 1
  const counters: [Tag, number | undefined][] = [
    [Tag.LogNumber, e.logNumber],
    [Tag.NextFileNumber, e.nextFileNumber],
    [Tag.LastSeq, e.lastSeq],
  ]
  for (const [, v] of counters) if (v !== undefined) len += 1 + varintLength(v)
  for (const { table: t } of e.added) {
    len += 2 + varintLength(t.fileNumber) + varintLength(t.size) + varintLength(t.smallest.length) + t.smallest.length
    len += varintLength(t.largest.length) + t.largest.length + varintLength(t.minSeq) + varintLength(t.maxSeq) + varintLength(t.entries)
  }
  for (const r of e.removed) len += 2 + varintLength(r.fileNumber)
  const out = Buffer.allocUnsafe(len)
  let o = 0
  out[o++] = formatVersion
  for (const [tag, v] of counters) {
    if (v === undefined) continue
    out[o++] = tag
    o = writeVarint(out, o, v)
  }
  for (const { level, table: t } of e.added) {
    assert(level >= 0 && level < levelsMax, `bad level ${level}`)
    out[o++] = Tag.AddTable
    out[o++] = level
    o = writeVarint(out, o, t.fileNumber)
    o = writeVarint(out, o, t.size)
    o = writeVarint(out, o, t.smallest.length)
    o += t.smallest.copy(out, o)
    o = writeVarint(out, o, t.largest.length)
    o += t.largest.copy(out, o)
    o = writeVarint(out, o, t.minSeq)
    o = writeVarint(out, o, t.maxSeq)
    o = writeVarint(out, o, t.entries)
  }
  for (const r of e.removed) {
    out[o++] = Tag.RemoveTable
    out[o++] = r.level
    o = writeVarint(out, o, r.fileNumber)
  }
  assert(o === len, 'version edit length mismatch')
  return out
}

export function decodeEdit(p: Buffer, file: string, offset: number): VersionEdit {
  if (p.length < 1) throw corruption('empty manifest record', { file, offset })
  if (p[0] !== formatVersion) {
    throw new KvError('KV_UNSUPPORTED_VERSION', `manifest record version ${p[0]} is not supported by this build`, { file, offset })
  }
  const e = emptyEdit()
  let o = 1
  const num = (): number => {
    const v = readVarint(p, o)
    o = varintEnd.offset
    return v
  }
  const bytes = (): Buffer => {
    const n = num()
    if (o + n > p.length) throw corruption('manifest key runs past its record', { file, offset })
    const b = Buffer.from(p.subarray(o, o + n))
    o += n
    return b
  }
  const level = (): number => {
    const l = p[o++]
    if (l === undefined || l >= levelsMax) throw corruption(`manifest names level ${String(l)}`, { file, offset })
    return l
  }
  while (o < p.length) {
    const tag = p[o++]
    switch (tag) {
      case Tag.LogNumber:
        e.logNumber = num()
        break
      case Tag.NextFileNumber:
        e.nextFileNumber = num()
        break
      case Tag.LastSeq:
        e.lastSeq = num()
        break
      case Tag.AddTable: {
        const lv = level()
        const fileNumber = num()
        const size = num()
        const smallest = bytes()
        const largest = bytes()
        const minSeq = num()
        const maxSeq = num()
        const entries = num()
        e.added.push({ level: lv, table: { fileNumber, size, smallest, largest, minSeq, maxSeq, entries } })
        break
      }
      case Tag.RemoveTable: {
        const lv = level()
        e.removed.push({ level: lv, fileNumber: num() })
        break
      }
      default:
        throw new KvError('KV_UNSUPPORTED_VERSION', `manifest record has unknown tag ${String(tag)}`, { file, offset })
    }
  }
  return e
}
