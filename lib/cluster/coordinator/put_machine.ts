// The put (and delete) coordinator as a pure state machine (PROTOCOL.md §5.3). The driver
// calls start() once, then step() with each reply, replica timeout and the deadline, and
// carries out the returned effects. The first target is the coordinating replica itself.

import { assert } from '../../assert'
import type { ClientWrite } from '../versioning/conflict_policy'
import type { Context, DvvObject } from '../versioning/dvv_object'
import type { Target } from '../ring/sloppy_targets'
import { distinctNodes, QuorumTally, unavailable } from './quorum_tally'
import type { CoordinatorEffect, CoordinatorInput, PutResult } from './messages'

export interface PutParams {
  readonly key: Buffer
  readonly write: ClientWrite
  /** targets[0] coordinates (§5.2); fallbacks carry hintFor. */
  readonly targets: readonly Target[]
  /** Healthy unused fallbacks, tried in order when a target fails (sloppy quorum). */
  readonly spares: readonly number[]
  /** W, already validated against N. */
  readonly w: number
}

export type PutEffect = CoordinatorEffect<PutResult>

export class PutMachine {
  private readonly tally: QuorumTally
  private readonly hintFor = new Map<number, number | undefined>()
  private readonly spares: number[]
  private object: DvvObject | undefined
  private context: Context | undefined
  private replied = false
  private finished = false
  private started = false

  constructor(private readonly p: PutParams) {
    assert(Number.isInteger(p.w) && p.w >= 1, 'W must be a positive integer')
    assert(distinctNodes(p.targets), 'targets are distinct nodes')
    this.tally = new QuorumTally(p.w)
    this.spares = p.spares.filter((s) => !p.targets.some((t) => t.node === s))
  }

  get isDone(): boolean {
    return this.finished
  }

  get acks(): number {
    return this.tally.acks
  }

  start(): PutEffect[] {
    assert(!this.started, 'start() once')
    this.started = true
    const coordinator = this.p.targets[0]
    if (this.p.targets.length < this.p.w || coordinator === undefined) {
      return this.finish([this.reply({ ok: false, error: unavailable('put', this.p.targets.length, this.p.w) })])
    }
    this.tally.add(coordinator.node)
    this.hintFor.set(coordinator.node, coordinator.hintFor)
    return [{ type: 'send', node: coordinator.node, message: { kind: 'coordinateWrite', key: this.p.key, write: this.p.write } }]
  }

  step(input: CoordinatorInput): PutEffect[] {
    assert(this.started, 'step() after start()')
    if (this.finished) return []
    if (input.type === 'deadline') {
      const out: PutEffect[] = this.replied ? [] : [this.reply({ ok: false, error: this.tally.failure('put', true) })]
      return this.finish(out)
    }
    const node = input.node
    if (this.tally.state(node) !== 'pending') return [] // unknown or late duplicate
    const coordinating = this.object === undefined
    if (input.type === 'reply' && input.ok) {
      this.tally.settle(node, 'acked')
      if (coordinating) return this.afterCoordinated(input.object, input.context)
      return this.decide([])
    }
    if (coordinating) {
      // The coordinating replica refused or did not answer: nothing was replicated.
      this.tally.settle(node, input.type === 'replicaTimeout' ? 'failedTimeout' : 'failedError')
      const error = input.type === 'reply' ? input.error : this.tally.failure('put', false)
      return this.finish([this.reply({ ok: false, error })])
    }
    return this.replicaFailed(node, input.type === 'replicaTimeout')
  }

  private afterCoordinated(object: DvvObject | undefined, context: Context | undefined): PutEffect[] {
    assert(object !== undefined && context !== undefined, 'the coordinating reply carries the object and context')
    this.object = object
    this.context = context
    const out: PutEffect[] = []
    for (const t of this.p.targets.slice(1)) out.push(this.replicate(t.node, t.hintFor))
    return this.decide(out)
  }

  private replicate(node: number, hintFor: number | undefined): PutEffect {
    this.tally.add(node)
    this.hintFor.set(node, hintFor)
    return { type: 'send', node, message: { kind: 'replicate', key: this.p.key, object: this.object!, hintFor } }
  }

  private replicaFailed(node: number, timedOut: boolean): PutEffect[] {
    this.tally.settle(node, timedOut ? 'failedTimeout' : 'failedError')
    const spare = this.spares.shift()
    const out: PutEffect[] = []
    if (spare !== undefined) out.push(this.replicate(spare, this.hintFor.get(node) ?? node))
    return this.decide(out)
  }

  private decide(out: PutEffect[]): PutEffect[] {
    if (!this.replied) {
      const o = this.tally.outcome()
      if (o === 'met') out.push(this.reply({ ok: true, context: this.context! }))
      else if (o === 'impossible') out.push(this.reply({ ok: false, error: this.tally.failure('put', false) }))
    }
    return this.tally.pending === 0 ? this.finish(out) : out
  }

  private reply(result: PutResult): PutEffect {
    assert(!this.replied, 'a client gets one reply')
    this.replied = true
    return { type: 'reply', result }
  }

  private finish(out: PutEffect[]): PutEffect[] {
    if (!this.finished) {
      this.finished = true
      out.push({ type: 'done' })
    }
    return out
  }
}
