// The Database a caller gets from open() (README "Cluster API"): validates every request
// before anything is sent (KV_INVALID_ARGUMENT), answers gets from the read caches when it
// can, hands the rest through the admission gate (README "Overload") to the router
// (client-driven coordination or the coordinator actor) and shapes the answer. Holds no
// protocol logic.

import { KvError } from '../errors'
import { readCacheHitsPerTurnMax } from '../constants'
import { TurnClock } from '../util/clock'
import { KeyScratch, toBuffer } from '../util/bytes'
import {
  checkDeleteRequest, checkGetRequest, checkSetRequest, decodeObject, encodeContext, isLive, join, readResult, scanSingleSibling,
  type ConflictPolicy, type DvvObject, type GetRequest, type RequestDefaults, type SetRequest, type Context,
} from '../cluster'
import type { Router } from './router'
import type { AdmissionGate } from './admission'
import type { Admin } from './admin'
import { encodeContextForWire } from './context_bytes'

export type Bytes = string | Uint8Array

export interface SetOptions {
  /** The context a get returned: this write replaces what it covers. */
  context?: Bytes
  ttlMs?: number
  w?: number | 'ONE' | 'QUORUM' | 'ALL'
  level?: 'ONE' | 'QUORUM' | 'ALL'
  timeoutMs?: number
}
export type DeleteOptions = Omit<SetOptions, 'ttlMs'>
export interface GetOptions {
  r?: number | 'ONE' | 'QUORUM' | 'ALL'
  level?: 'ONE' | 'QUORUM' | 'ALL'
  timeoutMs?: number
}

export interface GetResult {
  /** The value (under a resolver: the resolved value; under LWW: the newest). */
  readonly value: Buffer
  /** Every live concurrent value, in a stable order; one element when there is no conflict. */
  readonly siblings: readonly Buffer[]
  /** Opaque: hand it back to set or delete to replace what this get saw. */
  readonly context: Buffer
}

export interface WriteResult {
  readonly context: Buffer
}

/**
 * A get's answer. The context (§4.4 bytes) is encoded on first access: most reads never use it.
 * Until then the answer holds what it is made from: the merged context (shared, never
 * mutated), or for a read-cache answer the object's bytes, decoded only then.
 */
class ReadAnswer implements GetResult {
  /** As the caller gave it: converted only for the context. */
  readonly #key: Bytes
  readonly #from: Context | Uint8Array
  #siblings: readonly Buffer[] | undefined
  #encoded: Buffer | undefined

  /** `siblings` undefined: the value is the only one. */
  constructor(key: Bytes, readonly value: Buffer, siblings: readonly Buffer[] | undefined, from: Context | Uint8Array) {
    this.#key = key
    this.#siblings = siblings
    this.#from = from
  }

  get siblings(): readonly Buffer[] {
    return (this.#siblings ??= [this.value])
  }

  get context(): Buffer {
    if (this.#encoded === undefined) {
      const from = this.#from
      this.#encoded = encodeContext(toBuffer(this.#key), from instanceof Uint8Array ? join(decodeObject(from)) : from)
    }
    return this.#encoded
  }

  toJSON(): { value: Buffer; siblings: readonly Buffer[]; context: Buffer } {
    return { value: this.value, siblings: this.siblings, context: this.context }
  }
}

export type SetEntry = { key: Bytes; value: Bytes; options?: SetOptions } | [Bytes, Bytes] | [Bytes, Bytes, SetOptions]

export class Database {
  private closing: Promise<void> | undefined
  /** Read-cache answers given in this event-loop turn, and those held for the next (readCacheHitsPerTurnMax). */
  private hitsThisTurn = 0
  private heldHits: (() => void)[] = []
  /** Wall time for the TTL checks of cache answers, read once per turn. */
  private readonly turnNow: TurnClock
  private readonly keyScratch = new KeyScratch()

  constructor(
    /** Read-cache answers (§9.8) come straight from the router; gets and sets pass the gate. */
    private readonly router: Router,
    private readonly gate: AdmissionGate,
    private readonly defaults: RequestDefaults,
    private readonly policy: ConflictPolicy,
    private readonly nowMs: () => number,
    readonly admin: Admin,
    private readonly shutdown: () => Promise<void>,
  ) {
    this.turnNow = new TurnClock(nowMs)
  }

  private checkOpen(): void {
    if (this.closing !== undefined) throw new KvError('KV_CLOSED', 'the database is closed')
  }

  private write(req: SetRequest): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      this.gate.put(
        { key: req.key, value: req.value, ttlMs: req.ttlMs, context: req.context === undefined ? undefined : encodeContextForWire(req.key, req.context) },
        req.w,
        req.timeoutMs,
        (err, context) => (err !== undefined ? reject(err) : resolve({ context: context! })),
      )
    })
  }

  /** Stores `value` under `key` (W = options.w ?? writeQuorum). */
  set(key: Bytes, value: Bytes, options?: SetOptions): Promise<WriteResult> {
    let req: SetRequest
    try {
      this.checkOpen()
      req = checkSetRequest(key, value, options, this.defaults)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.write(req)
  }

  /** Deletes `key`: a versioned tombstone (concurrent values it has not seen survive as siblings). */
  async delete(key: Bytes, options?: DeleteOptions): Promise<WriteResult> {
    this.checkOpen()
    return this.write(checkDeleteRequest(key, options, this.defaults))
  }

  /** undefined if absent, deleted or expired; else the value, its siblings and a context. */
  get(key: Bytes, options?: GetOptions): Promise<GetResult | undefined> {
    let req: GetRequest
    try {
      this.checkOpen()
      // The common case, a short ASCII key and no options, is looked up in the read caches
      // through a reused buffer: a cache answer needs no Buffer of its key.
      const view = options === undefined && typeof key === 'string' ? this.keyScratch.view(key) : undefined
      if (view !== undefined) {
        const hit = this.fromCaches(key, view, this.defaults.readQuorum)
        if (hit !== null) return hit
        // (From the string, not the view: user code, a resolver, may have run since.)
        req = { key: toBuffer(key), r: this.defaults.readQuorum, timeoutMs: this.defaults.timeoutMs }
      } else {
        req = checkGetRequest(key, options, this.defaults)
        const hit = this.fromCaches(req.key, req.key, req.r)
        if (hit !== null) return hit
      }
    } catch (err) {
      return Promise.reject(err)
    }
    // One promise per get, settled from the router's callback.
    return new Promise<GetResult | undefined>((resolve, reject) => {
      this.gate.get(req.key, req.r, req.timeoutMs, (err, object) => {
        if (err !== undefined) return reject(err)
        try {
          resolve(this.answer(req.key, object))
        } catch (e) {
          reject(e)
        }
      })
    })
  }

  /**
   * A get answered from the read caches (PROTOCOL.md §9.8), or null: then the quorum round
   * answers. `bytes` is the key's bytes (possibly a scratch view, not kept).
   */
  private fromCaches(key: Bytes, bytes: Buffer, r: number): Promise<GetResult | undefined> | null {
    const cached = this.router.cached(bytes, r)
    if (cached === undefined) return null
    const answer = cached instanceof Uint8Array ? this.cachedAnswer(key, cached) : this.answer(key, cached.merged, this.turnNow.now())
    if (answer === null) return null
    if (this.hitsThisTurn === 0) setImmediate(this.nextTurn)
    if (++this.hitsThisTurn <= readCacheHitsPerTurnMax) return Promise.resolve(answer)
    return new Promise((resolve) => this.heldHits.push(() => resolve(answer)))
  }

  private readonly nextTurn = (): void => {
    this.hitsThisTurn = 0
    const held = this.heldHits
    this.heldHits = []
    for (const resolve of held) resolve()
  }

  /** What a get returns for the merged object. */
  private answer(key: Bytes, object: DvvObject | undefined, nowMs = this.nowMs()): GetResult | undefined {
    const r = readResult(object, this.policy, nowMs)
    return r === undefined ? undefined : new ReadAnswer(key, r.value, r.siblings, r.context)
  }

  /**
   * What a get returns for object bytes from the read caches; null for bytes no replica would
   * send (the quorum round then answers, and reports). An object of one sibling (the common
   * case) is read in place: its value is a view of `raw`, and the rest is decoded only if asked.
   */
  private cachedAnswer(key: Bytes, raw: Uint8Array): GetResult | undefined | null {
    const now = this.turnNow.now()
    const one = scanSingleSibling(raw)
    if (one === undefined) {
      let object: DvvObject
      try {
        object = decodeObject(raw)
      } catch {
        return null
      }
      return this.answer(key, object, now) // a resolver that throws fails this get
    }
    if (!isLive(one, now)) return undefined
    return new ReadAnswer(key, Buffer.from(raw.buffer, raw.byteOffset + one.valueStart, one.valueEnd - one.valueStart), undefined, raw)
  }

  /** Gets several keys (all validated first; all or none admitted, cached or not); results in the order of `keys`. */
  async getMany(keys: readonly Bytes[], options?: GetOptions): Promise<(GetResult | undefined)[]> {
    this.checkOpen()
    if (!Array.isArray(keys)) throw new KvError('KV_INVALID_ARGUMENT', 'getMany takes an array of keys')
    for (const k of keys) checkGetRequest(k, options, this.defaults)
    this.gate.admitAll(keys.length, 'getMany')
    return Promise.all(keys.map((k) => this.get(k, options)))
  }

  /** Sets several entries (all validated first; all or none admitted); each is acknowledged on its own. */
  async setMany(entries: readonly SetEntry[], options?: SetOptions): Promise<WriteResult[]> {
    this.checkOpen()
    if (!Array.isArray(entries)) throw new KvError('KV_INVALID_ARGUMENT', 'setMany takes an array of entries')
    const reqs = entries.map((e) => {
      if (Array.isArray(e)) return checkSetRequest(e[0], e[1], { ...options, ...(e[2] ?? {}) }, this.defaults)
      if (e === null || typeof e !== 'object') throw new KvError('KV_INVALID_ARGUMENT', 'an entry is {key, value, options?} or [key, value, options?]')
      return checkSetRequest(e.key, e.value, { ...options, ...(e.options ?? {}) }, this.defaults)
    })
    this.gate.admitAll(reqs.length, 'setMany')
    return Promise.all(reqs.map((r) => this.write(r)))
  }

  /** Stops every node cleanly and ends the worker threads. Requests after this, and those still waiting for a slot: KV_CLOSED. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.gate.close(new KvError('KV_CLOSED', 'the database is closed'))
      this.closing = this.shutdown()
    }
    return this.closing
  }
}

export type { Context }
