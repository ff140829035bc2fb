// Counting replies toward a quorum (PROTOCOL.md §5.3, §5.4): one entry per target, each
// pending, acked or failed (by error or timeout). The decision is a pure function of the
// counts; test/cluster/quorum.test.ts checks it against a naive replay of every reply order.

import { KvError } from '../../errors'
import type { Target } from '../ring/sloppy_targets'

export type TargetState = 'pending' | 'acked' | 'failedError' | 'failedTimeout'

export type QuorumOutcome = 'met' | 'impossible' | 'waiting'

/** The outcome for `needed` replies given how many acked and how many may still answer. */
export function quorumOutcome(acks: number, pending: number, needed: number): QuorumOutcome {
  if (acks >= needed) return 'met'
  if (acks + pending < needed) return 'impossible'
  return 'waiting'
}

export class QuorumTally {
  // A handful of targets: parallel arrays and a linear search are cheaper than a Map. They are
  // sized for `capacity` targets up front (grown only past it), and the counts are fields: a
  // coordinator lives as long as its request, and an array grown from [] reserves 17 slots.
  private readonly nodes: number[]
  private readonly states: TargetState[]
  private size = 0
  /** Targets pending, acked and failed by timeout, kept with `states`. */
  private nPending = 0
  private nAcked = 0
  private nTimeouts = 0

  constructor(readonly needed: number, capacity = 3) {
    this.nodes = new Array<number>(capacity)
    this.states = new Array<TargetState>(capacity)
  }

  /** The slot of a target (0.., in the order added), or -1. */
  slotOf(node: number): number {
    for (let i = 0; i < this.size; i++) if (this.nodes[i] === node) return i
    return -1
  }

  get slots(): number {
    return this.size
  }

  nodeAt(slot: number): number {
    return this.nodes[slot]!
  }

  stateAt(slot: number): TargetState {
    return this.states[slot]!
  }

  private count(state: TargetState, delta: number): void {
    if (state === 'pending') this.nPending += delta
    else if (state === 'acked') this.nAcked += delta
    else if (state === 'failedTimeout') this.nTimeouts += delta
  }

  /** Makes `node` a pending target (again); returns its slot. */
  add(node: number): number {
    let i = this.slotOf(node)
    if (i >= 0) {
      this.count(this.states[i]!, -1)
      this.states[i] = 'pending'
    } else {
      i = this.size++
      this.nodes[i] = node
      this.states[i] = 'pending'
    }
    this.nPending++
    return i
  }

  has(node: number): boolean {
    return this.slotOf(node) >= 0
  }

  state(node: number): TargetState | undefined {
    const i = this.slotOf(node)
    return i >= 0 ? this.states[i] : undefined
  }

  /** Records a result for a pending target; false if the node is unknown or already answered. */
  settle(node: number, result: Exclude<TargetState, 'pending'>): boolean {
    const i = this.slotOf(node)
    if (i < 0 || this.states[i] !== 'pending') return false
    this.states[i] = result
    this.nPending--
    this.count(result, 1)
    return true
  }

  get acks(): number {
    return this.nAcked
  }

  get pending(): number {
    return this.nPending
  }

  get timeouts(): number {
    return this.nTimeouts
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

/** True when no two targets name the same node (a cheap check for the machines' asserts). */
export function distinctNodes(targets: readonly Target[]): boolean {
  for (let i = 1; i < targets.length; i++) for (let j = 0; j < i; j++) if (targets[i]!.node === targets[j]!.node) return false
  return true
}
