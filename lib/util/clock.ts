// Time enters Ringwood through a Clock, so that a simulator can drive the real code with
// virtual time. `nowMs` is wall-clock time (TTL expiry, hint age); `monotonicMs` measures
// intervals and deadlines and never goes backwards.

export interface TimerHandle {
  cancel(): void
}

export interface Clock {
  nowMs(): number
  monotonicMs(): number
  /** `unref`: the timer does not keep the process (or thread) alive. */
  setTimeout(fn: () => void, ms: number, options?: { unref?: boolean }): TimerHandle
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  setTimeout: (fn, ms, options) => {
    const t = setTimeout(fn, ms)
    if (options?.unref === true) t.unref()
    return { cancel: () => clearTimeout(t) }
  },
}

/**
 * A reading of `read` taken at most once per event-loop turn (the next setImmediate forgets
 * it): for paths that answer thousands of requests per turn and can take time a few ms stale.
 */
export class TurnClock {
  private value = NaN

  constructor(private readonly read: () => number) {}

  now(): number {
    if (this.value !== this.value) {
      this.value = this.read()
      setImmediate(this.forget)
    }
    return this.value
  }

  private readonly forget = (): void => {
    this.value = NaN
  }
}

/** A clock moved by hand: for tests of TTL, deadlines and throttles. */
export class ManualClock implements Clock {
  private now: number
  private timers: { at: number; fn: () => void; id: number }[] = []
  private nextId = 0

  constructor(startMs = 1_700_000_000_000) {
    this.now = startMs
  }

  nowMs(): number {
    return this.now
  }

  monotonicMs(): number {
    return this.now
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++
    this.timers.push({ at: this.now + Math.max(0, ms), fn, id })
    return { cancel: () => (this.timers = this.timers.filter((t) => t.id !== id)) }
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.now + ms
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id)
      const t = this.timers[0]
      if (t === undefined || t.at > target) break
      this.timers.shift()
      this.now = t.at
      t.fn()
    }
    this.now = target
  }
}
