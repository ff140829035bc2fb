// The requests one endpoint has in flight (RUNTIME.md §3): a fixed array of slots with a
// free stack, so issuing and completing a request allocates nothing. A request id is
// `slotGeneration << 16 | slot` (never 0): a late response to a reused slot is recognised.

import { assert } from '../assert'
import { requestsInFlightMax } from '../constants'
import type { KvError } from '../errors'
import type { Message } from './message'

/** Called once per request: with an error, or with the response (valid during the call). */
export type ResponseCallback = (err: KvError | undefined, response: Message | undefined) => void

export class RequestTable {
  private readonly callbacks: (ResponseCallback | undefined)[]
  private readonly ids: Uint32Array
  private readonly peers: Int32Array
  private readonly deadlines: Float64Array
  private readonly slotGen: Uint16Array
  private readonly free: Int32Array
  private freeTop: number
  /** Slots below this have been used at least once: the sweep's bound. */
  private highWater = 0
  pending = 0

  constructor(readonly capacity = requestsInFlightMax) {
    assert(capacity >= 1 && capacity <= 65536, 'request slots are 16-bit')
    this.callbacks = new Array<ResponseCallback | undefined>(capacity).fill(undefined)
    this.ids = new Uint32Array(capacity)
    this.peers = new Int32Array(capacity).fill(-1)
    this.deadlines = new Float64Array(capacity)
    this.slotGen = new Uint16Array(capacity)
    this.free = new Int32Array(capacity)
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i
    this.freeTop = capacity
  }

  /** Returns the new request id, or 0 when every slot is taken. */
  add(peer: number, deadlineMs: number, cb: ResponseCallback): number {
    if (this.freeTop === 0) return 0
    const slot = this.free[--this.freeTop]!
    let gen = (this.slotGen[slot]! + 1) & 0xffff
    if (gen === 0) gen = 1
    this.slotGen[slot] = gen
    const id = ((gen << 16) | slot) >>> 0
    this.ids[slot] = id
    this.peers[slot] = peer
    this.deadlines[slot] = deadlineMs
    this.callbacks[slot] = cb
    if (slot >= this.highWater) this.highWater = slot + 1
    this.pending++
    return id
  }

  /** Whether `id` is a request still waiting for its answer. */
  isLive(id: number): boolean {
    const slot = id & 0xffff
    return slot < this.capacity && this.ids[slot] === id
  }

  /** Moves a live request's deadline `ms` later (nothing for a stale or unknown id). */
  postpone(id: number, ms: number): void {
    if (this.isLive(id)) this.deadlines[id & 0xffff]! += ms
  }

  /** Removes a live request and returns its callback; undefined for a stale or unknown id. */
  take(id: number, peer: number): ResponseCallback | undefined {
    const slot = id & 0xffff
    if (slot >= this.capacity || this.ids[slot] !== id || this.peers[slot] !== peer) return undefined
    return this.release(slot)
  }

  private release(slot: number): ResponseCallback | undefined {
    const cb = this.callbacks[slot]
    this.callbacks[slot] = undefined
    this.ids[slot] = 0
    this.peers[slot] = -1
    this.free[this.freeTop++] = slot
    this.pending--
    return cb
  }

  /** Takes every request whose deadline is before `nowMs` (or to `peer` if given); their ids go to `ids` if given. */
  collect(nowMs: number, peer: number, out: ResponseCallback[], ids?: number[]): void {
    const hw = this.highWater
    for (let slot = 0; slot < hw; slot++) {
      if (this.ids[slot] === 0) continue
      if (peer >= 0 ? this.peers[slot] === peer : this.deadlines[slot]! <= nowMs) {
        const id = this.ids[slot]!
        const cb = this.release(slot)
        if (cb !== undefined) {
          out.push(cb)
          ids?.push(id)
        }
      }
    }
  }

  /** Takes every pending request. */
  collectAll(out: ResponseCallback[]): void {
    for (let slot = 0; slot < this.highWater; slot++) {
      if (this.ids[slot] === 0) continue
      const cb = this.release(slot)
      if (cb !== undefined) out.push(cb)
    }
  }
}
