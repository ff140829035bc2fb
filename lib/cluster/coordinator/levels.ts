// Named consistency levels and quorum validation (PROTOCOL.md §5.1). Bad values are
// KV_INVALID_ARGUMENT, raised before anything is sent.

import { replicasMax } from '../../constants'
import { invalidArgument } from '../../errors'

export type LevelName = 'ONE' | 'QUORUM' | 'ALL' | 'LOCAL_QUORUM' | 'EACH_QUORUM'
export const levelNames: readonly LevelName[] = ['ONE', 'QUORUM', 'ALL', 'LOCAL_QUORUM', 'EACH_QUORUM']

/** A majority of N. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1
}

/** A level name or a number → the number of replies needed out of N. */
export function resolveLevel(level: LevelName | number, n: number, what = 'quorum'): number {
  if (typeof level === 'number') {
    checkQuorum(level, n, what)
    return level
  }
  switch (level) {
    case 'ONE':
      return 1
    case 'QUORUM':
      return majority(n)
    case 'ALL':
      return n
    case 'LOCAL_QUORUM':
    case 'EACH_QUORUM':
      throw invalidArgument(`${level} needs data centers, which this build does not have yet`, { level })
    default:
      throw invalidArgument(`unknown level ${String(level)}`, { level: String(level) })
  }
}

export function checkReplicas(n: number, claimingNodes: number): void {
  if (!Number.isInteger(n) || n < 1 || n > replicasMax) throw invalidArgument(`replicas must be an integer in [1, ${replicasMax}]`, { replicas: n })
  if (n > claimingNodes) throw invalidArgument(`replicas (${n}) exceed the nodes (${claimingNodes})`, { replicas: n, nodes: claimingNodes })
}

export function checkQuorum(q: number, n: number, what: string): void {
  if (!Number.isInteger(q) || q < 1 || q > n) throw invalidArgument(`${what} must be an integer in [1, N=${n}]`, { [what]: q, replicas: n })
}

/** Strong overlap: every read quorum meets every write quorum. Not required; reported. */
export function quorumsOverlap(r: number, w: number, n: number): boolean {
  return r + w > n
}
