// A token bucket in bytes for throttled background work (PROTOCOL.md §6.3). Time comes in as
// nowMs from the driver's Clock. An item larger than the burst passes when the bucket is full
// and leaves it in debt, so a large hint is slowed, never stuck.

import { assert } from '../../assert'

export class TokenBucket {
  private tokens: number
  private lastMs: number

  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
    nowMs: number,
  ) {
    assert(ratePerSec > 0 && burst > 0, 'a token bucket needs a positive rate and burst')
    this.tokens = burst
    this.lastMs = nowMs
  }

  private refill(nowMs: number): void {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerSec) / 1000)
      this.lastMs = nowMs
    }
  }

  /** Takes n tokens if available now (or the bucket is full); false otherwise. */
  tryTake(n: number, nowMs: number): boolean {
    this.refill(nowMs)
    if (this.tokens < Math.min(n, this.burst)) return false
    this.tokens -= n
    return true
  }

  /** The earliest time at which tryTake(n) succeeds. */
  readyAtMs(n: number, nowMs: number): number {
    this.refill(nowMs)
    const need = Math.min(n, this.burst) - this.tokens
    return need <= 0 ? nowMs : nowMs + Math.ceil((need * 1000) / this.ratePerSec)
  }

  available(nowMs: number): number {
    this.refill(nowMs)
    return this.tokens
  }
}
