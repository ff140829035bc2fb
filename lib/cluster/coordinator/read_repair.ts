// Read repair decisions (PROTOCOL.md §5.5): merge every answer, and name the primaries whose
// answer differs from the merge. Fallbacks are not repaired; they hold hints, not ownership.

import type { ConflictPolicy } from '../versioning/conflict_policy'
import { mergeObjects } from '../versioning/conflict_policy'
import { deadAtMs, objectsEquivalent, type DvvObject } from '../versioning/dvv_object'

/** The merge of all answers (undefined answers are "not found"). */
export function mergeAnswers(answers: Iterable<DvvObject | undefined>, policy: ConflictPolicy): DvvObject | undefined {
  let merged: DvvObject | undefined
  for (const a of answers) merged = mergeObjects(merged, a, policy)
  return merged
}

/**
 * Primaries that answered with something other than `merged` and need the merged object.
 * Nothing is stale when every answer was not found. Nor is a primary that found nothing when
 * `merged` died at or before `deadBeforeMs` (now − tombstoneGraceMs, §4.5): storage may have
 * dropped it there already, and would drop it again at once. (A primary that holds an older
 * value is repaired: the dead object shadows it.)
 */
export function staleReplicas(
  answers: ReadonlyMap<number, DvvObject | undefined>,
  merged: DvvObject | undefined,
  primaries: ReadonlySet<number>,
  deadBeforeMs = -Infinity,
): number[] {
  if (merged === undefined) return []
  const deadAt = deadAtMs(merged)
  const dropped = deadAt !== 0 && deadAt <= deadBeforeMs
  const out: number[] = []
  for (const [node, answer] of answers) {
    if (!primaries.has(node)) continue
    if (answer === undefined ? !dropped : !objectsEquivalent(answer, merged)) out.push(node)
  }
  return out.sort((a, b) => a - b)
}
