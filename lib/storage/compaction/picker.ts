// The compaction picker: given a Version, which compaction to run next, if any (DESIGN.md,
// levels and compaction). Pure: no I/O, no clock; the engine runs what it returns.

import * as C from '../../constants'
import { compareBytes } from '../../util/bytes'
import type { Version } from '../version/version'
import type { TableMeta } from '../version/version_edit'
import type { TableProperties } from '../sstable/table_properties'

/** What garbage compaction reads of a table (its properties, FORMAT.md §3.4). */
export type GarbageFacts = Pick<TableProperties, 'entries' | 'tombstones' | 'ttlEntries' | 'ttlExpiryEighths'>

export interface CompactionPlan {
  /** The level whose tables are compacted into `outputLevel`. */
  level: number
  outputLevel: number
  /** Inputs from `level` and from `outputLevel`. */
  inputs: TableMeta[]
  outputs: TableMeta[]
  /** No table below outputLevel overlaps the inputs: tombstones and TTLs may be dropped. */
  bottommost: boolean
  reason: 'level0' | 'size' | 'garbage' | 'manual'
  score: number
}

export function levelBytesMax(level: number): number {
  return C.level1BytesMax * C.levelSizeMultiplier ** Math.max(0, level - 1)
}

/** Scores per level: L0 by file count, others by bytes against their limit. */
export function levelScores(v: Version): number[] {
  const scores: number[] = []
  for (let l = 0; l < C.levelsMax - 1; l++) {
    scores.push(l === 0 ? v.levels[0]!.length / C.level0CompactionTrigger : v.levelBytes(l) / levelBytesMax(l))
  }
  return scores
}

/**
 * The next compaction, or undefined. `cursor[level]` is the largest key compacted last at
 * that level (round-robin through the key space); `busy` holds file numbers already being
 * compacted, which a new plan must not touch.
 */
export function pickCompaction(v: Version, cursor: readonly (Buffer | undefined)[], busy: ReadonlySet<number>): CompactionPlan | undefined {
  const scores = levelScores(v)
  const order = scores.map((s, l) => [s, l] as const).filter(([s]) => s >= 1).sort((a, b) => b[0] - a[0])
  for (const [score, level] of order) {
    const plan = level === 0 ? planLevel0(v) : planLevelN(v, level, cursor[level])
    if (plan && !plan.inputs.some((t) => busy.has(t.fileNumber)) && !plan.outputs.some((t) => busy.has(t.fileNumber))) {
      return { ...plan, score }
    }
  }
  return undefined
}

function planLevel0(v: Version): Omit<CompactionPlan, 'score'> | undefined {
  const inputs = v.levels[0]!.slice()
  if (inputs.length === 0) return undefined
  return withOutputs(v, 0, inputs, 'level0')
}

function planLevelN(v: Version, level: number, after: Buffer | undefined): Omit<CompactionPlan, 'score'> | undefined {
  const tables = v.levels[level]!
  if (tables.length === 0) return undefined
  const next = after === undefined ? undefined : tables.find((t) => compareBytes(t.smallest, after) > 0)
  return withOutputs(v, level, [next ?? tables[0]!], 'size')
}

/**
 * A table's garbage entries at `nowMs`: its tombstones, plus the TTL entries known to have
 * expired: ceil(j × n / 8) once its j-th eighth has passed (a lower bound, DESIGN.md,
 * "Garbage compaction").
 */
export function garbageEntries(p: GarbageFacts, nowMs: number): number {
  const e = p.ttlExpiryEighths
  let j = e.length
  while (j > 0 && e[j - 1]! > nowMs) j--
  return p.tombstones + Math.ceil((j * p.ttlEntries) / 8)
}

/** Garbage entries over entries, of one table or the inputs of a plan (0 when empty). */
export function garbageShare(facts: readonly GarbageFacts[], nowMs: number): number {
  let garbage = 0
  let entries = 0
  for (const f of facts) {
    garbage += garbageEntries(f, nowMs)
    entries += f.entries
  }
  return entries === 0 ? 0 : garbage / entries
}

/**
 * A compaction for garbage (DESIGN.md, "Garbage compaction"): of the tables that have at least
 * garbageCompactionRatio of it, by share, highest first, alone into its own level when no
 * deeper level overlaps it, else with the next level's overlapping tables (level 0: all of it,
 * as its own plan does, since its tables overlap); taken when its inputs together still have
 * that share, so that a few tombstones over a large range do not rewrite the range. Tables
 * newer than `smallestSnapshot` are passed over (a snapshot may need what they hold), and so
 * are those `factsOf` cannot read (undefined).
 */
export function pickGarbageCompaction(
  v: Version,
  factsOf: (t: TableMeta) => GarbageFacts | undefined,
  nowMs: number,
  smallestSnapshot: number,
): CompactionPlan | undefined {
  const candidates: { level: number; table: TableMeta; share: number }[] = []
  v.levels.forEach((tables, level) => {
    for (const table of tables) {
      if (table.maxSeq > smallestSnapshot) continue
      const facts = factsOf(table)
      const share = facts === undefined ? 0 : garbageShare([facts], nowMs)
      if (share >= C.garbageCompactionRatio) candidates.push({ level, table, share })
    }
  })
  candidates.sort((a, b) => b.share - a.share)
  for (const { level, table } of candidates) {
    const plan =
      level === 0
        ? withOutputs(v, 0, v.levels[0]!.slice(), 'garbage')
        : overlapsBelow(v, level, table.smallest, table.largest)
          ? withOutputs(v, level, [table], 'garbage')
          : { level, outputLevel: level, inputs: [table], outputs: [], bottommost: true, reason: 'garbage' as const }
    const facts = [...plan.inputs, ...plan.outputs].map(factsOf)
    if (facts.some((f) => f === undefined)) continue
    const share = garbageShare(facts as GarbageFacts[], nowMs)
    if (share >= C.garbageCompactionRatio) return { ...plan, score: share }
  }
  return undefined
}

/**
 * When pickGarbageCompaction should look again, with nothing written meanwhile: for a table
 * with enough garbage that was not taken (a snapshot held it: garbageSnapshotRecheckMs from
 * now; its plan read too little garbage: its next eighth), or one that will have enough at
 * one of its later eighths, the earliest such time; else, while any table holds tombstones or
 * TTLs, garbageCheckMsMax from now (a plan's other tables expire too); undefined if none does.
 */
export function nextGarbageDueMs(
  v: Version,
  factsOf: (t: TableMeta) => GarbageFacts | undefined,
  nowMs: number,
  smallestSnapshot: number,
): number | undefined {
  let due: number | undefined
  let anyGarbage = false
  for (const table of v.tables()) {
    const f = factsOf(table)
    if (f === undefined) continue
    anyGarbage ||= f.tombstones > 0 || f.ttlEntries > 0
    const later = f.ttlExpiryEighths.find((e) => e > nowMs)
    let at: number | undefined
    if (garbageShare([f], nowMs) >= C.garbageCompactionRatio) {
      at = table.maxSeq > smallestSnapshot ? nowMs + C.garbageSnapshotRecheckMs : later
    } else if (later !== undefined) {
      at = f.ttlExpiryEighths.find((e) => e > nowMs && garbageShare([f], e) >= C.garbageCompactionRatio)
    }
    if (at !== undefined && (due === undefined || at < due)) due = at
  }
  return due ?? (anyGarbage ? nowMs + C.garbageCheckMsMax : undefined)
}

/** A manual compaction of every table into the deepest non-empty level (at least 1). */
export function planFullCompaction(v: Version): Omit<CompactionPlan, 'score'> | undefined {
  const all = v.tables()
  if (all.length === 0) return undefined
  const outputLevel = Math.max(1, v.deepestNonEmptyLevel())
  const inputs = all.filter((t) => !v.levels[outputLevel]!.includes(t))
  const outputs = v.levels[outputLevel]!.slice()
  if (inputs.length === 0 && outputs.length <= 1) return undefined
  return { level: 0, outputLevel, inputs, outputs, bottommost: true, reason: 'manual' }
}

function withOutputs(v: Version, level: number, inputs: TableMeta[], reason: CompactionPlan['reason']): Omit<CompactionPlan, 'score'> {
  const { smallest, largest } = range(inputs)
  const outputLevel = level + 1
  const outputs = v.overlapping(outputLevel, smallest, largest)
  const all = range([...inputs, ...outputs])
  return { level, outputLevel, inputs, outputs, bottommost: !overlapsBelow(v, outputLevel, all.smallest, all.largest), reason }
}

/** Some table deeper than `level` overlaps [smallest, largest]. */
function overlapsBelow(v: Version, level: number, smallest: Buffer, largest: Buffer): boolean {
  for (let l = level + 1; l < C.levelsMax; l++) if (v.overlapping(l, smallest, largest).length > 0) return true
  return false
}

export function range(tables: readonly TableMeta[]): { smallest: Buffer; largest: Buffer } {
  let smallest = tables[0]!.smallest
  let largest = tables[0]!.largest
  for (const t of tables) {
    if (compareBytes(t.smallest, smallest) < 0) smallest = t.smallest
    if (compareBytes(t.largest, largest) > 0) largest = t.largest
  }
  return { smallest, largest }
}
