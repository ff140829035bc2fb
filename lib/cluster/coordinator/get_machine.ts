// The get coordinator as a pure state machine (PROTOCOL.md §5.4): read from every target,
// answer at R replies with their merge, then after every reply (or the deadline) send read
// repair to stale primaries (§5.5).

import { assert } from '../../assert'
import type { Target } from '../ring/sloppy_targets'
import { keepSiblings, type ConflictPolicy } from '../versioning/conflict_policy'
import type { DvvObject } from '../versioning/dvv_object'
import { distinctNodes, QuorumTally, unavailable } from './quorum_tally'
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
  /** now − tombstoneGraceMs: a dead object that died at or before it is not repaired onto replicas that lack it (§4.5). */
  readonly deadBeforeMs?: number
}

export type GetEffect = CoordinatorEffect<GetResult>

export class GetMachine {
  private readonly tally: QuorumTally
  // Answers by the tally's target slot (sized up front); `answered` counts them.
  private readonly answers: (DvvObject | undefined)[]
  private answered = 0
  private readonly policy: ConflictPolicy
  private replied = false
  private finished = false
  private started = false
  private mergedOf = -1
  private mergedObject: DvvObject | undefined

  constructor(private readonly p: GetParams) {
    assert(Number.isInteger(p.r) && p.r >= 1, 'R must be a positive integer')
    assert(distinctNodes(p.targets), 'targets are distinct nodes')
    this.tally = new QuorumTally(p.r, p.targets.length)
    this.answers = new Array<DvvObject | undefined>(p.targets.length)
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
    const out: GetEffect[] = []
    const message = { kind: 'read', key: this.p.key } as const
    for (const t of this.p.targets) {
      this.tally.add(t.node)
      out.push({ type: 'send', node: t.node, message })
    }
    return out
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
      this.answers[this.tally.slotOf(input.node)] = input.object
      this.answered++
    } else {
      this.tally.settle(input.node, input.type === 'replicaTimeout' ? 'failedTimeout' : 'failedError')
    }
    if (!this.replied) {
      const o = this.tally.outcome()
      if (o === 'met') out.push(this.reply({ ok: true, object: this.merged() }))
      else if (o === 'impossible') out.push(this.reply({ ok: false, error: this.tally.failure('get', false) }))
    }
    return this.tally.pending === 0 ? this.finish(out) : out
  }

  /** The merge of the answers so far, computed once per set of answers. */
  private merged(): DvvObject | undefined {
    if (this.mergedOf !== this.answered) {
      this.mergedObject = mergeAnswers(this.answersGiven(), this.policy)
      this.mergedOf = this.answered
    }
    return this.mergedObject
  }

  private allAnswersAre(obj: DvvObject): boolean {
    for (let i = 0; i < this.tally.slots; i++) if (this.tally.stateAt(i) === 'acked' && this.answers[i] !== obj) return false
    return true
  }

  /** The answers received (a not-found answer is undefined). */
  private answersGiven(): (DvvObject | undefined)[] {
    const out: (DvvObject | undefined)[] = []
    for (let i = 0; i < this.tally.slots; i++) if (this.tally.stateAt(i) === 'acked') out.push(this.answers[i])
    return out
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
    if (this.p.readRepair !== false && this.answered > 0) {
      const merged = this.merged()
      // Every answer the very object of the merge (drivers share one decode of equal answers):
      // nothing is stale.
      if (merged === undefined || this.allAnswersAre(merged)) {
        out.push({ type: 'done' })
        return out
      }
      const primaries = new Set<number>()
      for (const t of this.p.targets) if (t.hintFor === undefined) primaries.add(t.node)
      const answers = new Map<number, DvvObject | undefined>()
      for (let i = 0; i < this.tally.slots; i++) {
        const node = this.tally.nodeAt(i)
        if (this.tally.stateAt(i) === 'acked') answers.set(node, this.answers[i])
      }
      for (const node of staleReplicas(answers, merged, primaries, this.p.deadBeforeMs)) {
        out.push({ type: 'send', node, message: { kind: 'repair', key: this.p.key, object: merged! } })
      }
    }
    out.push({ type: 'done' })
    return out
  }
}
