// Hint replay scheduling (PROTOCOL.md §6.3): a pure step machine over a HintLedger. Owners
// are served round-robin, oldest hint first, only when healthy and not backing off, with at
// most inFlightMax replays outstanding and a token bucket in bytes. The driver sends the
// record, feeds back acked/failed, and wakes at `wakeAt`.

import { assert } from '../../assert'
import { hintReplayBurstBytes, hintReplayBytesPerSec, hintReplayInFlightMax, hintRetryBackoffMsMax, hintRetryBackoffMsMin } from '../../constants'
import type { HintLedger, HintMeta } from './hint_ledger'
import { TokenBucket } from './token_bucket'

export type ReplayInput =
  | { readonly type: 'tick'; readonly nowMs: number; readonly isHealthy: (node: number) => boolean }
  | { readonly type: 'acked'; readonly id: number; readonly revision: number }
  | { readonly type: 'failed'; readonly id: number; readonly nowMs: number }
  /** The owner is back (its worker started): retry its hints now, not after the backoff. */
  | { readonly type: 'ownerUp'; readonly owner: number }

export type ReplayEffect =
  | { readonly type: 'replay'; readonly hint: HintMeta }
  | { readonly type: 'drop'; readonly id: number; readonly reason: 'replayed' | 'expired' }
  | { readonly type: 'wakeAt'; readonly atMs: number }

export interface ReplayOptions {
  readonly bytesPerSec?: number
  readonly burstBytes?: number
  readonly inFlightMax?: number
  readonly backoffMsMin?: number
  readonly backoffMsMax?: number
}

interface Backoff {
  untilMs: number
  delayMs: number
}

export class HintReplayer {
  private readonly bucket: TokenBucket
  private readonly inFlight = new Set<number>()
  private readonly backoff = new Map<number, Backoff>()
  private readonly inFlightMax: number
  private readonly backoffMsMin: number
  private readonly backoffMsMax: number
  private cursor = 0

  constructor(
    private readonly ledger: HintLedger,
    nowMs: number,
    o: ReplayOptions = {},
  ) {
    this.bucket = new TokenBucket(o.bytesPerSec ?? hintReplayBytesPerSec, o.burstBytes ?? hintReplayBurstBytes, nowMs)
    this.inFlightMax = o.inFlightMax ?? hintReplayInFlightMax
    this.backoffMsMin = o.backoffMsMin ?? hintRetryBackoffMsMin
    this.backoffMsMax = o.backoffMsMax ?? hintRetryBackoffMsMax
    assert(this.inFlightMax >= 1 && this.backoffMsMin <= this.backoffMsMax, 'replay options are consistent')
  }

  get inFlightCount(): number {
    return this.inFlight.size
  }

  step(input: ReplayInput): ReplayEffect[] {
    switch (input.type) {
      case 'tick':
        return this.tick(input.nowMs, input.isHealthy)
      case 'acked': {
        this.inFlight.delete(input.id)
        const meta = this.ledger.get(input.id)
        if (meta === undefined || meta.revision !== input.revision) return [] // replaced meanwhile: replay again
        this.ledger.remove(meta.id)
        this.backoff.delete(meta.owner)
        return [{ type: 'drop', id: meta.id, reason: 'replayed' }]
      }
      case 'ownerUp':
        this.backoff.delete(input.owner)
        return []
      case 'failed': {
        this.inFlight.delete(input.id)
        const meta = this.ledger.get(input.id)
        if (meta === undefined) return []
        const prev = this.backoff.get(meta.owner)
        const delayMs = prev === undefined ? this.backoffMsMin : Math.min(this.backoffMsMax, prev.delayMs * 2)
        this.backoff.set(meta.owner, { untilMs: input.nowMs + delayMs, delayMs })
        return [{ type: 'wakeAt', atMs: input.nowMs + delayMs }]
      }
    }
  }

  private tick(nowMs: number, isHealthy: (node: number) => boolean): ReplayEffect[] {
    const out: ReplayEffect[] = this.ledger.expire(nowMs).map((m) => {
      this.inFlight.delete(m.id)
      return { type: 'drop', id: m.id, reason: 'expired' }
    })
    let wakeAt = Infinity
    const queues = new Map<number, HintMeta[]>()
    for (const owner of this.ledger.owners()) {
      const b = this.backoff.get(owner)
      if (b !== undefined && nowMs < b.untilMs) {
        wakeAt = Math.min(wakeAt, b.untilMs)
        continue
      }
      if (!isHealthy(owner)) continue
      const q = this.ledger.forOwner(owner).filter((m) => !this.inFlight.has(m.id))
      if (q.length > 0) queues.set(owner, q)
    }
    const owners = [...queues.keys()]
    // Round-robin across owners, starting where the last tick stopped.
    for (let turn = 0; owners.length > 0 && this.inFlight.size < this.inFlightMax; turn++) {
      const owner = owners[(this.cursor + turn) % owners.length]!
      const q = queues.get(owner)!
      const next = q[0]
      if (next === undefined) {
        if ([...queues.values()].every((x) => x.length === 0)) break
        continue
      }
      if (!this.bucket.tryTake(next.bytes, nowMs)) {
        wakeAt = Math.min(wakeAt, this.bucket.readyAtMs(next.bytes, nowMs))
        this.cursor = (this.cursor + turn) % owners.length
        break
      }
      q.shift()
      this.inFlight.add(next.id)
      out.push({ type: 'replay', hint: next })
    }
    if (wakeAt !== Infinity) out.push({ type: 'wakeAt', atMs: wakeAt })
    return out
  }
}
