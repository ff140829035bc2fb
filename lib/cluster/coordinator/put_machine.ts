// The put (and delete) coordinator as a pure state machine (PROTOCOL.md §5.3). The driver
// calls start() once, then step() with each reply, replica timeout and the deadline, and
// carries out the returned effects. The first target is the coordinating replica itself.
// The write (W), object (O) and context (C) are only carried (messages.ts): decoded in the
// tests, bytes in the request driver.

import { assert } from '../../assert'
import type { ClientWrite } from '../versioning/conflict_policy'
import type { Context, DvvObject } from '../versioning/dvv_object'
import type { Target } from '../ring/sloppy_targets'
import { distinctNodes, QuorumTally, unavailable } from './quorum_tally'
import type { CoordinatorEffect, CoordinatorInput, PutResult } from './messages'

export interface PutParams<W = ClientWrite> {
  readonly key: Buffer
  readonly write: W
  /** targets[0] coordinates (§5.2); fallbacks carry hintFor. */
  readonly targets: readonly Target[]
  /** Healthy unused fallbacks, tried in order when a target fails (sloppy quorum). */
  readonly spares: readonly number[]
  /** W, already validated against N. */
  readonly w: number
}

export type PutEffect<W = ClientWrite, O = DvvObject, C = Context> = CoordinatorEffect<PutResult<C>, W, O>

export class PutMachine<W = ClientWrite, O = DvvObject, C = Context> {
  private readonly tally: QuorumTally
  /** By tally slot: the hint's intended owner of a fallback target (undefined: a primary). */
  private readonly hintFor: (number | undefined)[] = []
  /** The next of p.spares to try (those that are targets already are skipped). */
  private nextSpare = 0
  private object: O | undefined
  private context: C | undefined
  private replied = false
  private finished = false
  private started = false

  constructor(private readonly p: PutParams<W>) {
    assert(Number.isInteger(p.w) && p.w >= 1, 'W must be a positive integer')
    assert(distinctNodes(p.targets), 'targets are distinct nodes')
    this.tally = new QuorumTally(p.w, p.targets.length)
  }

  get isDone(): boolean {
    return this.finished
  }

  get acks(): number {
    return this.tally.acks
  }

  start(): PutEffect<W, O, C>[] {
    assert(!this.started, 'start() once')
    this.started = true
    const coordinator = this.p.targets[0]
    if (this.p.targets.length < this.p.w || coordinator === undefined) {
      return this.finish([this.reply({ ok: false, error: unavailable('put', this.p.targets.length, this.p.w) })])
    }
    this.hintFor[this.tally.add(coordinator.node)] = coordinator.hintFor
    return [{ type: 'send', node: coordinator.node, message: { kind: 'coordinateWrite', key: this.p.key, write: this.p.write } }]
  }

  step(input: CoordinatorInput<O, C>): PutEffect<W, O, C>[] {
    assert(this.started, 'step() after start()')
    if (this.finished) return []
    if (input.type === 'deadline') {
      const out: PutEffect<W, O, C>[] = this.replied ? [] : [this.reply({ ok: false, error: this.tally.failure('put', true) })]
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

  private afterCoordinated(object: O | undefined, context: C | undefined): PutEffect<W, O, C>[] {
    assert(object !== undefined && context !== undefined, 'the coordinating reply carries the object and context')
    this.object = object
    this.context = context
    const out: PutEffect<W, O, C>[] = []
    const targets = this.p.targets
    for (let i = 1; i < targets.length; i++) out.push(this.replicate(targets[i]!.node, targets[i]!.hintFor))
    return this.decide(out)
  }

  private replicate(node: number, hintFor: number | undefined): PutEffect<W, O, C> {
    this.hintFor[this.tally.add(node)] = hintFor
    return { type: 'send', node, message: { kind: 'replicate', key: this.p.key, object: this.object!, hintFor } }
  }

  /** The next spare that is not a target, or undefined. */
  private takeSpare(): number | undefined {
    const { spares, targets } = this.p
    while (this.nextSpare < spares.length) {
      const s = spares[this.nextSpare++]!
      if (!targets.some((t) => t.node === s)) return s
    }
    return undefined
  }

  private replicaFailed(node: number, timedOut: boolean): PutEffect<W, O, C>[] {
    this.tally.settle(node, timedOut ? 'failedTimeout' : 'failedError')
    const spare = this.takeSpare()
    const out: PutEffect<W, O, C>[] = []
    if (spare !== undefined) out.push(this.replicate(spare, this.hintFor[this.tally.slotOf(node)] ?? node))
    return this.decide(out)
  }

  private decide(out: PutEffect<W, O, C>[]): PutEffect<W, O, C>[] {
    if (!this.replied) {
      const o = this.tally.outcome()
      if (o === 'met') out.push(this.reply({ ok: true, context: this.context! }))
      else if (o === 'impossible') out.push(this.reply({ ok: false, error: this.tally.failure('put', false) }))
    }
    return this.tally.pending === 0 ? this.finish(out) : out
  }

  private reply(result: PutResult<C>): PutEffect<W, O, C> {
    assert(!this.replied, 'a client gets one reply')
    this.replied = true
    return { type: 'reply', result }
  }

  private finish(out: PutEffect<W, O, C>[]): PutEffect<W, O, C>[] {
    if (!this.finished) {
      this.finished = true
      out.push({ type: 'done' })
    }
    return out
  }
}
