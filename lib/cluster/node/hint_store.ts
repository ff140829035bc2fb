// Durable hints on one node (PROTOCOL.md §6, §9.6): records in the engine's 0x01 range, an
// in-memory HintLedger (caps in bytes and age), and the HintReplayer that hands them back to
// their owners with throttling. The replay driver (sending HANDOFF) is given as `deliver`.

import type { Engine } from '../../storage'
import type { Clock, TimerHandle } from '../../util/clock'
import { HintLedger } from '../hints/hint_ledger'
import { HintReplayer, type ReplayEffect, type ReplayOptions } from '../hints/hint_replayer'
import { decodeHint, encodeHint } from '../hints/hint_record'
import { mergeObjects, type ConflictPolicy } from '../versioning/conflict_policy'
import { decodeObject, encodeObject } from '../versioning/object_codec'
import { hintKey, hintRange } from './storage_keys'
import { InFlightWrites } from './in_flight_writes'

/** How often the replayer is ticked while hints are held (besides node-up events and wakeAt). */
export const hintTickMs = 100

export interface HintStoreOptions extends ReplayOptions {
  readonly bytesMax?: number
  readonly ageMsMax?: number
}

export type Deliver = (owner: number, partition: number, key: Buffer, object: Buffer, done: (ok: boolean) => void) => void

export interface HintCounters {
  stored: number
  refused: number
  replayed: number
  expired: number
  replayFailures: number
}

export class HintStore {
  readonly ledger: HintLedger
  private readonly replayer: HintReplayer
  readonly counters: HintCounters = { stored: 0, refused: 0, replayed: 0, expired: 0, replayFailures: 0 }
  private timer: TimerHandle | undefined
  private timerAt = Infinity
  private closed = false
  /** Ledger id → the record's engine key. */
  private readonly recordKeys = new Map<number, Buffer>()
  /** Hint records on their way to the engine, by slot (latin1 of the record's key). */
  private readonly pending = new InFlightWrites()

  private constructor(
    private readonly engine: Engine,
    private readonly policy: ConflictPolicy,
    private readonly clock: Clock,
    private readonly isHealthy: (node: number) => boolean,
    private readonly deliver: Deliver,
    o: HintStoreOptions,
  ) {
    this.ledger = new HintLedger(o.bytesMax, o.ageMsMax)
    this.replayer = new HintReplayer(this.ledger, clock.nowMs(), o)
  }

  /** Reloads the node's hint records into a fresh ledger (damaged records are dropped). */
  static load(engine: Engine, policy: ConflictPolicy, clock: Clock, isHealthy: (node: number) => boolean, deliver: Deliver, o: HintStoreOptions = {}): HintStore {
    const s = new HintStore(engine, policy, clock, isHealthy, deliver, o)
    const it = engine.iterator(hintRange)
    try {
      for (let kv = it.next(); kv !== undefined; kv = it.next()) {
        const h = decodeHint(kv.value)
        const meta = s.ledger.admit({ owner: h.intendedOwner, key: h.key, partition: h.partition, createdAtMs: h.createdAtMs, bytes: kv.value.length })
        s.recordKeys.set(meta.id, Buffer.from(kv.key))
      }
    } finally {
      it.close()
    }
    s.schedule(0)
    return s
  }

  /** The hint object held for (owner, key), as stored bytes. */
  read(owner: number, key: Buffer): Buffer | undefined {
    const raw = this.engine.getSync(hintKey(owner, key))
    return raw === undefined ? undefined : encodeObject(decodeHint(raw).object)
  }

  /** Stores (merges) a hint; throws KV_OVERLOADED when the caps refuse it. */
  async add(owner: number, partition: number, key: Buffer, objectBytes: Buffer): Promise<void> {
    const hk = hintKey(owner, key)
    const slot = hk.toString('latin1')
    const prevRaw = this.pending.newest(slot) ?? this.engine.getSync(hk)
    const prev = prevRaw === undefined ? undefined : decodeHint(prevRaw)
    const now = this.clock.nowMs()
    const object = mergeObjects(prev?.object, decodeObject(objectBytes), this.policy)!
    const createdAtMs = prev?.createdAtMs ?? now
    const record = encodeHint({ intendedOwner: owner, partition, createdAtMs, key, object })
    try {
      const meta = this.ledger.admit({ owner, key, partition, createdAtMs, bytes: record.length })
      this.recordKeys.set(meta.id, hk)
    } catch (err) {
      this.counters.refused++
      throw err
    }
    this.counters.stored++
    // A second hint for the slot merges into this one even while the engine holds it back.
    this.pending.add(slot, record)
    try {
      await this.engine.put(hk, record)
    } finally {
      this.pending.settle(slot, record)
    }
    this.schedule(hintTickMs)
  }

  get bytes(): number {
    return this.ledger.bytes
  }

  get count(): number {
    return this.ledger.count
  }

  byOwner(): Record<number, { count: number; bytes: number }> {
    const out: Record<number, { count: number; bytes: number }> = {}
    for (const owner of this.ledger.owners()) {
      const hints = this.ledger.forOwner(owner)
      out[owner] = { count: hints.length, bytes: hints.reduce((a, h) => a + h.bytes, 0) }
    }
    return out
  }

  /** A node came up (or something changed): tick soon; hints for `owner` skip their backoff. */
  poke(owner?: number): void {
    if (owner !== undefined) this.apply(this.replayer.step({ type: 'ownerUp', owner }))
    this.schedule(0)
  }

  private schedule(inMs: number): void {
    if (this.closed || this.ledger.count === 0) return
    const at = this.clock.monotonicMs() + inMs
    if (this.timer !== undefined && this.timerAt <= at) return
    this.timer?.cancel()
    this.timerAt = at
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      this.timerAt = Infinity
      this.tick()
    }, inMs)
  }

  private tick(): void {
    if (this.closed) return
    const now = this.clock.nowMs()
    this.apply(this.replayer.step({ type: 'tick', nowMs: now, isHealthy: this.isHealthy }))
    this.schedule(hintTickMs)
  }

  private apply(effects: ReplayEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'replay': {
          const meta = e.hint
          const raw = this.engine.getSync(hintKey(meta.owner, meta.key))
          if (raw === undefined) {
            // The record vanished (a crash between ledger and engine): forget the hint.
            this.apply(this.replayer.step({ type: 'acked', id: meta.id, revision: meta.revision }))
            break
          }
          const object = encodeObject(decodeHint(raw).object)
          this.deliver(meta.owner, meta.partition, meta.key, object, (ok) => {
            if (this.closed) return
            if (ok) this.apply(this.replayer.step({ type: 'acked', id: meta.id, revision: meta.revision }))
            else {
              this.counters.replayFailures++
              this.apply(this.replayer.step({ type: 'failed', id: meta.id, nowMs: this.clock.nowMs() }))
            }
            this.schedule(0)
          })
          break
        }
        case 'drop': {
          // The ledger forgot the hint; delete its record unless a newer hint took the slot.
          if (e.reason === 'replayed') this.counters.replayed++
          else this.counters.expired++
          this.dropRecord(e.id)
          break
        }
        case 'wakeAt':
          this.schedule(Math.max(0, e.atMs - this.clock.nowMs()))
          break
      }
    }
  }

  private dropRecord(id: number): void {
    const hk = this.recordKeys.get(id)
    this.recordKeys.delete(id)
    if (hk !== undefined && this.ledger.find(hk.readUInt32BE(1), hk.subarray(5)) === undefined) {
      void this.engine.del(hk).catch(() => undefined)
    }
  }

  close(): void {
    this.closed = true
    this.timer?.cancel()
    this.timer = undefined
  }
}
