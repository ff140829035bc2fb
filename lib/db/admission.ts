// Admission control of client requests (README "Overload"): at most `maxInFlight` gets and
// sets are coordinated at once; more wait in one FIFO queue, up to `maxQueued`, each bound by
// its own deadline; beyond that a request fails at once with KV_OVERLOADED. Answers from the
// read caches (PROTOCOL.md §9.8) send nothing and are not counted.
//
// Why: every request started is work queued at the nodes. Measured on 2 cores (3 nodes, sets
// of 100-byte values, zipfian keys): throughput is flat from 1000 to 2000 sets in flight
// (25 k/s) and falls beyond (22 k/s at 4000 and 8000), while latency grows with the queue (p99
// 0.2 s at 1000, 0.5 s at 4000, 1 s at 8000). Past the replica timeout (1 s) replicas are
// suspected for answering late, writes go to fallbacks with hints, and a burst of 200,000 sets
// failed every one of them with KV_TIMEOUT and left every node suspected. Requests that wait
// here cost the nodes nothing, and one that waits past its deadline was never sent: it is
// known not to have been applied.

import { KvError } from '../errors'
import type { Clock, TimerHandle } from '../util/clock'
import type { GetCallback, PutCallback, WireWrite } from '../cluster'
import type { Router } from './router'

export interface AdmissionLimits {
  /** Requests coordinated at once. */
  readonly maxInFlight: number
  /** Requests waiting for one of those slots; 0: none wait (fail fast). */
  readonly maxQueued: number
}

export interface AdmissionStats {
  /** Requests being coordinated now, and waiting for a slot. */
  inFlight: number
  queued: number
  maxInFlight: number
  maxQueued: number
  /** Since open(): requests refused with KV_OVERLOADED (the queue full; every key of a refused getMany or setMany), and those whose deadline passed while they waited. */
  overloaded: number
  expiredInQueue: number
}

/** A put's or a get's callback: its answer is passed on as it came. */
type Answer = (err: KvError | undefined, answer: never) => void

function fail(cb: Answer, err: KvError): void {
  cb(err, undefined as never)
}

/** How often waiting requests are checked against their deadlines. */
const queueSweepMs = 25

/** A request waiting for a slot: a put (`write`) or a get (`key`). */
class Waiting {
  constructor(
    readonly write: WireWrite | undefined,
    readonly key: Buffer | undefined,
    /** W or R. */
    readonly quorum: number,
    readonly cb: Answer,
    readonly queuedAtMs: number,
    readonly deadlineMs: number,
  ) {}
}

/** The gate in front of a Router's gets and sets (its read-cache answers do not pass it). */
export class AdmissionGate implements Pick<Router, 'put' | 'get'> {
  private running = 0
  /** FIFO from `head`; taken slots are set to undefined until the array is compacted. */
  private queue: (Waiting | undefined)[] = []
  private head = 0
  private sweepTimer: TimerHandle | undefined
  /** True while pump() runs: a request that fails synchronously must not start a nested pump. */
  private pumping = false
  private closedWith: KvError | undefined
  private readonly counters = { overloaded: 0, expiredInQueue: 0 }
  /** Ends a started request: frees its slot (one function per gate, not per request). */
  private readonly finished = (): void => {
    this.running--
    if (this.head < this.queue.length) this.pump()
  }

  constructor(
    private readonly inner: Router,
    private readonly limits: AdmissionLimits,
    private readonly clock: Clock,
  ) {}

  get queued(): number {
    return this.queue.length - this.head
  }

  /** Requests that would be taken now, started or queued, before any is refused. */
  get room(): number {
    return Math.max(0, this.limits.maxInFlight - this.running) + this.limits.maxQueued - this.queued
  }

  stats(): AdmissionStats {
    return { inFlight: this.running, queued: this.queued, ...this.limits, ...this.counters }
  }

  put(write: WireWrite, w: number, timeoutMs: number, cb: PutCallback): void {
    this.admit(write, undefined, w, timeoutMs, cb)
  }

  get(key: Buffer, r: number, timeoutMs: number, cb: GetCallback): void {
    this.admit(undefined, key, r, timeoutMs, cb)
  }

  /** Fails every waiting request with `err` (KV_CLOSED), and every later one. Started ones end through the transport. */
  close(err: KvError): void {
    this.closedWith = err
    this.sweepTimer?.cancel()
    this.sweepTimer = undefined
    const waiting = this.queue.slice(this.head)
    this.queue = []
    this.head = 0
    for (const q of waiting) if (q !== undefined) fail(q.cb, err)
  }

  /** A put (`write`) or a get (`key`): started if a slot is free and none waits, else it waits. */
  private admit(write: WireWrite | undefined, key: Buffer | undefined, quorum: number, timeoutMs: number, cb: Answer): void {
    if (this.closedWith !== undefined) return fail(cb, this.closedWith)
    if (this.running < this.limits.maxInFlight && this.head === this.queue.length) return this.start(write, key, quorum, timeoutMs, cb)
    this.wait(write, key, quorum, timeoutMs, cb)
  }

  /** Takes a slot for a put or a get; its answer frees the slot, then goes to `cb`. */
  private start(write: WireWrite | undefined, key: Buffer | undefined, quorum: number, timeoutMs: number, cb: Answer): void {
    this.running++
    const finished = this.finished
    const done = (err: KvError | undefined, answer: unknown): void => {
      finished()
      cb(err, answer as never)
    }
    if (write !== undefined) this.inner.put(write, quorum, timeoutMs, done)
    else this.inner.get(key!, quorum, timeoutMs, done)
  }

  /**
   * KV_OVERLOADED (thrown, counted) unless `n` requests would all be started or wait now: a
   * getMany or setMany is admitted whole or not at all. Every key counts, cached or not.
   */
  admitAll(n: number, what: string): void {
    const room = this.room
    if (n <= room) return
    this.counters.overloaded += n
    const { maxInFlight, maxQueued } = this.limits
    throw new KvError('KV_OVERLOADED', `${what} of ${n} keys does not fit: ${room} more requests may run or wait now (maxInFlight ${maxInFlight}, maxQueued ${maxQueued}); nothing was sent: send it in smaller parts, or raise the limits in open()`, { keys: n, room, maxInFlight, maxQueued })
  }

  private wait(write: WireWrite | undefined, key: Buffer | undefined, quorum: number, timeoutMs: number, cb: Answer): void {
    const { maxInFlight, maxQueued } = this.limits
    if (this.queued >= maxQueued) {
      this.counters.overloaded++
      const what = maxQueued === 0 ? `maxQueued is 0` : `${this.queued} requests wait for one (maxQueued)`
      return fail(cb, new KvError('KV_OVERLOADED', `all ${maxInFlight} request slots are in use (maxInFlight) and ${what}: nothing was sent; retry later, or raise the limits in open()`, { inFlight: this.running, queued: this.queued, maxInFlight, maxQueued }))
    }
    const now = this.clock.monotonicMs()
    this.queue.push(new Waiting(write, key, quorum, cb, now, now + timeoutMs))
    if (this.sweepTimer === undefined) this.sweepTimer = this.clock.setTimeout(this.sweep, queueSweepMs)
  }

  /** Starts waiting requests while slots are free; those past their deadline fail instead. */
  private pump(): void {
    if (this.pumping) return
    this.pumping = true
    try {
      let now = NaN
      while (this.running < this.limits.maxInFlight && this.head < this.queue.length) {
        const q = this.queue[this.head]!
        this.queue[this.head++] = undefined
        if (now !== now) now = this.clock.monotonicMs()
        const leftMs = q.deadlineMs - now
        if (leftMs <= 0) this.expire(q, now)
        else this.start(q.write, q.key, q.quorum, Math.ceil(leftMs), q.cb)
      }
      this.compact()
    } finally {
      this.pumping = false
    }
  }

  private expire(q: Waiting, now: number): void {
    this.counters.expiredInQueue++
    const waitedMs = Math.round(now - q.queuedAtMs)
    fail(q.cb, new KvError('KV_TIMEOUT', `waited ${waitedMs} ms for one of the ${this.limits.maxInFlight} request slots (maxInFlight) and reached its deadline: nothing was sent`, { sent: false, waitedMs, maxInFlight: this.limits.maxInFlight }))
  }

  /** Drops the taken slots at the front once they are most of the array. */
  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue.length = 0
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }

  /** Fails the waiting requests whose deadline passed (slots may stay taken for a whole deadline). */
  private readonly sweep = (): void => {
    this.sweepTimer = undefined
    if (this.head === this.queue.length) return
    const now = this.clock.monotonicMs()
    let i = this.head
    while (i < this.queue.length && this.queue[i]!.deadlineMs > now) i++
    if (i < this.queue.length) {
      const kept: Waiting[] = this.queue.slice(this.head, i) as Waiting[]
      const expired: Waiting[] = []
      for (; i < this.queue.length; i++) {
        const q = this.queue[i]!
        if (q.deadlineMs <= now) expired.push(q)
        else kept.push(q)
      }
      this.queue = kept
      this.head = 0
      for (const q of expired) this.expire(q, now)
    }
    if (this.head < this.queue.length) this.sweepTimer = this.clock.setTimeout(this.sweep, queueSweepMs)
  }
}
