// The get coordinator as a pure state machine (PROTOCOL.md §5.4): read from every target,
// answer at R replies with their merge, then after every reply (or the deadline) send read
// repair to stale primaries (§5.5).

import { assert } from '../../assert'
import type { Target } from '../ring/sloppy_targets'
import { keepSiblings, type ConflictPolicy } from '../versioning/conflict_policy'
import type { DvvObject } from '../versioning/dvv_object'
import { QuorumTally, unavailable } from './quorum_tally'
import { mergeAnswers, staleReplicas } from './read_repair'
import type { CoordinatorEffect, CoordinatorInput, GetResult } from './messages'

export interface GetParams {
  readonly key: Buffer
  /** Primaries and fallbacks standing in for down primaries (hintFor set). */
  readonly targets: readonly Target[]
  /** R, already validated against N. */
  readonly r: number
  readonly policy?: ConflictPolicy
  /** Read repair after answering (default true). */
  readonly readRepair?: boolean
}

export type GetEffect = CoordinatorEffect<GetResult>

export class GetMachine {
  private readonly tally: QuorumTally
  private readonly answers = new Map<number, DvvObject | undefined>()
  private readonly policy: ConflictPolicy
  private replied = false
  private finished = false
  private started = false

  constructor(private readonly p: GetParams) {
    assert(Number.isInteger(p.r) && p.r >= 1, 'R must be a positive integer')
    assert(new Set(p.targets.map((t) => t.node)).size === p.targets.length, 'targets are distinct nodes')
    this.tally = new QuorumTally(p.r)
    this.policy = p.policy ?? keepSiblings
  }

  get isDone(): boolean {
    return this.finished
  }

  get acks(): number {
    return this.tally.acks
  }

  start(): GetEffect[] {
    assert(!this.started, 'start() once')
    this.started = true
    if (this.p.targets.length < this.p.r) {
      return this.finish([this.reply({ ok: false, error: unavailable('get', this.p.targets.length, this.p.r) })])
    }
    return this.p.targets.map((t): GetEffect => {
      this.tally.add(t.node)
      return { type: 'send', node: t.node, message: { kind: 'read', key: this.p.key } }
    })
  }

  step(input: CoordinatorInput): GetEffect[] {
    assert(this.started, 'step() after start()')
    if (this.finished) return []
    const out: GetEffect[] = []
    if (input.type === 'deadline') {
      if (!this.replied) out.push(this.reply({ ok: false, error: this.tally.failure('get', true) }))
      return this.finish(out)
    }
    if (this.tally.state(input.node) !== 'pending') return []
    if (input.type === 'reply' && input.ok) {
      this.tally.settle(input.node, 'acked')
      this.answers.set(input.node, input.object)
    } else {
      this.tally.settle(input.node, input.type === 'replicaTimeout' ? 'failedTimeout' : 'failedError')
    }
    if (!this.replied) {
      const o = this.tally.outcome()
      if (o === 'met') out.push(this.reply({ ok: true, object: mergeAnswers(this.answers.values(), this.policy) }))
      else if (o === 'impossible') out.push(this.reply({ ok: false, error: this.tally.failure('get', false) }))
    }
    return this.tally.pending === 0 ? this.finish(out) : out
  }

  private reply(result: GetResult): GetEffect {
    assert(!this.replied, 'a client gets one reply')
    this.replied = true
    return { type: 'reply', result }
  }

  /** Read repair over whatever answered, then done. */
  private finish(out: GetEffect[]): GetEffect[] {
    if (this.finished) return out
    this.finished = true
    if (this.p.readRepair !== false && this.answers.size > 0) {
      const merged = mergeAnswers(this.answers.values(), this.policy)
      const primaries = new Set(this.p.targets.filter((t) => t.hintFor === undefined).map((t) => t.node))
      for (const node of staleReplicas(this.answers, merged, primaries)) {
        out.push({ type: 'send', node, message: { kind: 'repair', key: this.p.key, object: merged! } })
      }
    }
    out.push({ type: 'done' })
    return out
  }
}
