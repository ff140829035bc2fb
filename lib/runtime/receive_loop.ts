// The receive loop of one endpoint (RUNTIME.md §4): drain every inbound ring as one batch,
// dispatch, flush (one doorbell per destination), repeat while there is work; yield to the
// event loop between rounds of passes; when idle, poll for `pollUs` through setImmediate,
// optionally spin `spinUs`, then park on the doorbell with Atomics.waitAsync.
// Exactly one of these is pending at a time: a setImmediate, or a waitAsync.

import { batchPassesMax, batchRecordsMax, idlePollUsDefault, idleSpinUsDefault, idleSpinUsMax, overflowRetryMs } from '../constants'
import { assertInteger } from '../assert'
import type { Endpoint } from './endpoint'

export interface IdlePolicy {
  /**
   * While this endpoint waits for responses to its own requests, the loop keeps polling
   * (yielding) this long after the last activity before it parks: the response is caught
   * without a wake-up. An endpoint with nothing pending parks at once (measured: polling
   * threads steal the CPU from the threads doing the work on 2 cores).
   */
  pollUs: number
  /** Then spin synchronously this long (blocks the event loop) before parking. */
  spinUs: number
}

// The poll budget is CPU scheduling, not protocol time: it reads performance.now() directly
// rather than the injected Clock (a simulated clock would make it spin forever).
const now = (): number => performance.now()

export class ReceiveLoop {
  private readonly pollMaxMs: number
  private readonly spinMs: number
  private lastActiveMs = 0
  private stopped = false
  private scheduled = false
  private parkedWait = false

  constructor(
    private readonly ep: Endpoint,
    policy: Partial<IdlePolicy>,
  ) {
    const pollUs = policy.pollUs ?? idlePollUsDefault
    const spinUs = policy.spinUs ?? idleSpinUsDefault
    assertInteger(pollUs, 0, 1_000_000, 'idle poll microseconds')
    assertInteger(spinUs, 0, idleSpinUsMax, 'idle spin microseconds')
    this.pollMaxMs = pollUs / 1000
    this.spinMs = spinUs / 1000
  }

  start(): void {
    this.lastActiveMs = now()
    this.schedule()
  }

  stop(): void {
    this.stopped = true
    if (this.parkedWait) this.ep.doorbell.ring() // resolve our own wait so nothing lingers
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return
    this.scheduled = true
    setImmediate(this.run)
  }

  private readonly run = (): void => {
    this.scheduled = false
    if (this.stopped) return
    const ep = this.ep
    ep.stats.loopRuns++
    const got = this.drain()
    if (this.stopped) return
    const t = now()
    if (got > 0 || ep.active) {
      ep.active = false
      this.lastActiveMs = t
      this.schedule()
      return
    }
    if (ep.pendingRequests > 0 && t - this.lastActiveMs < this.pollMaxMs) {
      this.schedule()
      return
    }
    if (this.spinMs > 0 && ep.pendingRequests > 0 && this.spin(t)) {
      this.lastActiveMs = now()
      this.schedule()
      return
    }
    this.park()
  }

  /**
   * Takes what the inbound rings hold (up to batchPassesMax passes), sends what that queued;
   * returns the records of the last pass. Also called by the deadline sweep before it fails
   * anything (RUNTIME.md §3).
   */
  drain(): number {
    const ep = this.ep
    let passes = 0
    let got = 0
    ep.batchNowMs = ep.clock.monotonicMs()
    try {
      do {
        got = ep.drainOnce(batchRecordsMax)
        if (ep.hasQueued) ep.pumpAll()
        ep.flush()
        passes++
      } while (got > 0 && passes < batchPassesMax && !this.stopped)
    } finally {
      ep.batchNowMs = NaN
    }
    return got
  }

  private spin(start: number): boolean {
    const ep = this.ep
    for (let i = 0; ; i++) {
      if (ep.anyInbound()) return true
      if ((i & 63) === 63 && now() - start >= this.spinMs) return false
    }
  }

  private park(): void {
    const ep = this.ep
    const bell = ep.doorbell
    const seen = bell.announce()
    if (ep.anyInbound() || ep.active || this.stopped) {
      bell.unpark()
      this.schedule()
      return
    }
    // While a queue waits for ring space, also retry on a timer (backs up the wake flag, §5).
    const wait = bell.wait(seen, ep.hasQueued ? overflowRetryMs : Infinity)
    if (wait === undefined) {
      bell.unpark()
      this.schedule()
      return
    }
    ep.stats.parks++
    this.parkedWait = true
    void wait.then(this.wake)
  }

  private readonly wake = (): void => {
    this.parkedWait = false
    this.ep.doorbell.unpark()
    this.lastActiveMs = now()
    if (!this.stopped) this.run()
  }
}
