// Get coalescing (PROTOCOL.md §5.6): gets of one key (and one R) that arrive at a coordinator
// in one mailbox drain share one quorum round. Only rounds not yet started take waiters: a
// get that arrives after a round started may follow a write the round could miss.

import { assert } from '../../assert'
import { coalescedGetWaitersMax } from '../../constants'

export interface CoalescedGroup<W> {
  readonly groupKey: string
  readonly waiters: readonly W[]
}

/** The group key of a get: its R and its key bytes. */
export function getGroupKey(key: Uint8Array, r: number): string {
  const b = Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength)
  return r + ':' + b.toString('latin1')
}

export class GetCoalescer<W> {
  /** The open (not yet full) round of each group. */
  private open = new Map<string, W[]>()
  /** Every round of this drain, in the order they opened. */
  private rounds: CoalescedGroup<W>[] = []

  constructor(private readonly waitersMax = coalescedGetWaitersMax) {
    assert(waitersMax >= 1, 'at least one waiter per round')
  }

  /** Adds a waiter to the group's not-yet-started round; true if it opened a new round. */
  add(groupKey: string, waiter: W): boolean {
    const last = this.open.get(groupKey)
    if (last !== undefined && last.length < this.waitersMax) {
      last.push(waiter)
      return false
    }
    const waiters = [waiter]
    this.open.set(groupKey, waiters)
    this.rounds.push({ groupKey, waiters })
    return true
  }

  get pendingRounds(): number {
    return this.rounds.length
  }

  /** At the end of a drain: the rounds to start (in the order they opened), each with its waiters. Empties the coalescer. */
  takeRounds(): CoalescedGroup<W>[] {
    const out = this.rounds
    this.rounds = []
    this.open.clear()
    return out
  }
}
