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
  return `${r}:${Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')}`
}

export class GetCoalescer<W> {
  private pending = new Map<string, W[][]>()

  constructor(private readonly waitersMax = coalescedGetWaitersMax) {
    assert(waitersMax >= 1, 'at least one waiter per round')
  }

  /** Adds a waiter to the group's not-yet-started round; true if it opened a new round. */
  add(groupKey: string, waiter: W): boolean {
    let rounds = this.pending.get(groupKey)
    if (rounds === undefined) {
      rounds = []
      this.pending.set(groupKey, rounds)
    }
    const last = rounds.at(-1)
    if (last !== undefined && last.length < this.waitersMax) {
      last.push(waiter)
      return false
    }
    rounds.push([waiter])
    return true
  }

  get pendingRounds(): number {
    let n = 0
    for (const r of this.pending.values()) n += r.length
    return n
  }

  /** At the end of a drain: the rounds to start, each with its waiters. Empties the coalescer. */
  takeRounds(): CoalescedGroup<W>[] {
    const out: CoalescedGroup<W>[] = []
    for (const [groupKey, rounds] of this.pending) for (const waiters of rounds) out.push({ groupKey, waiters })
    this.pending = new Map()
    return out
  }
}
