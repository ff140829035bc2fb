// The compaction picker: given a Version, which compaction to run next, if any (DESIGN.md,
// levels and compaction). Pure: no I/O, no clock; the engine runs what it returns.

import * as C from '../../constants'
import { compareBytes } from '../../util/bytes'
import type { Version } from '../version/version'
import type { TableMeta } from '../version/version_edit'

export interface CompactionPlan {
  /** The level whose tables are compacted into `outputLevel`. */
  level: number
  outputLevel: number
  /** Inputs from `level` and from `outputLevel`. */
  inputs: TableMeta[]
  outputs: TableMeta[]
  /** No table below outputLevel overlaps the inputs: tombstones and TTLs may be dropped. */
  bottommost: boolean
  reason: 'level0' | 'size' | 'manual'
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
  let bottommost = true
  for (let l = outputLevel + 1; l < C.levelsMax; l++) {
    if (v.overlapping(l, all.smallest, all.largest).length > 0) bottommost = false
  }
  return { level, outputLevel, inputs, outputs, bottommost, reason }
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
