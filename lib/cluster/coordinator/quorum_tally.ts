// Counting replies toward a quorum (PROTOCOL.md §5.3, §5.4): one entry per target, each
// pending, acked or failed (by error or timeout). The decision is a pure function of the
// counts; test/cluster/quorum.test.ts checks it against a naive replay of every reply order.

import { KvError } from '../../errors'

export type TargetState = 'pending' | 'acked' | 'failedError' | 'failedTimeout'

export type QuorumOutcome = 'met' | 'impossible' | 'waiting'

/** The outcome for `needed` replies given how many acked and how many may still answer. */
export function quorumOutcome(acks: number, pending: number, needed: number): QuorumOutcome {
  if (acks >= needed) return 'met'
  if (acks + pending < needed) return 'impossible'
  return 'waiting'
}

export class QuorumTally {
  private readonly states = new Map<number, TargetState>()

  constructor(readonly needed: number) {}

  add(node: number): void {
    this.states.set(node, 'pending')
  }

  has(node: number): boolean {
    return this.states.has(node)
  }

  state(node: number): TargetState | undefined {
    return this.states.get(node)
  }

  /** Records a result for a pending target; false if the node is unknown or already answered. */
  settle(node: number, result: Exclude<TargetState, 'pending'>): boolean {
    if (this.states.get(node) !== 'pending') return false
    this.states.set(node, result)
    return true
  }

  private count(s: TargetState): number {
    let n = 0
    for (const v of this.states.values()) if (v === s) n++
    return n
  }

  get acks(): number {
    return this.count('acked')
  }

  get pending(): number {
    return this.count('pending')
  }

  get timeouts(): number {
    return this.count('failedTimeout')
  }

  outcome(): QuorumOutcome {
    return quorumOutcome(this.acks, this.pending, this.needed)
  }

  /** The error for an impossible or timed-out quorum (§5.3 step 4, 5). */
  failure(op: string, atDeadline: boolean): KvError {
    const details = { acks: this.acks, needed: this.needed }
    if (atDeadline || this.timeouts > 0) {
      return new KvError('KV_TIMEOUT', `${op} timed out with ${details.acks} of ${details.needed} acknowledgements; a write may still have been applied`, details)
    }
    return new KvError('KV_UNAVAILABLE', `${op} failed: ${details.acks} of ${details.needed} replicas acknowledged and no more can`, details)
  }
}

export function unavailable(op: string, live: number, needed: number): KvError {
  return new KvError('KV_UNAVAILABLE', `${op} needs ${needed} replicas but only ${live} are live`, { live, needed, acks: 0 })
}
