// One thread's mailboxes (RUNTIME.md): the rings to and from every peer, the request table,
// the actors hosted here, and the send/request/reply API. The receive loop (receive_loop.ts)
// drives the inbound side; this file writes records (§2), queues on backpressure (§5) and
// dispatches what the loop reads (§3, §7). Owned by exactly one thread.

import { assert, assertInteger } from '../assert'
import { createRing } from './ring'
import {
  deadlineSweepMs,
  mailboxRingBytesDefault,
  messageBytesMax,
  overflowBytesMax,
  overflowMessagesMax,
  runtimeRequestTimeoutMsDefault,
  runtimeRequestTimeoutMsMax,
} from '../constants'
import { invalidArgument, isKvError, KvError } from '../errors'
import { systemClock, type Clock, type TimerHandle } from '../util'
import { DoorbellLocal } from './doorbell'
import {
  actorIdMax,
  decodeError,
  encodeError,
  FLAG_MORE,
  HEADER_BYTES,
  H_ACTOR,
  H_FROM_ACTOR,
  H_REQUEST_ID,
  H_TIMEOUT_MS,
  H_TYPE_GEN,
  H_VKF,
  Kind,
  packVkf,
  ENVELOPE_VERSION,
  typeMax,
} from './envelope'
import { Message, type ReplyTarget } from './message'
import { Peer, type PeerLink } from './peer'
import type { QueuedMessage } from './overflow_queue'
import { RequestTable, type ResponseCallback } from './request_table'
import type { RingReader } from './ring'
import { ReceiveLoop, type IdlePolicy } from './receive_loop'

/** An actor's message handler. It must not block; it may reply now or later (ReplyTarget). */
export type Handler = (msg: Message) => void
/** Writes `length` payload bytes at bytes[offset...] (zero-copy sends). */
export type PayloadWriter = (bytes: Uint8Array, offset: number) => void
export type PeerListener = (id: number, up: boolean, generation: number) => void

export interface SendOptions {
  /** Throw KV_OVERLOADED instead of queueing when the ring is full. */
  failFast?: boolean
  /** The sending actor (informational, seen by the receiver as msg.fromActor). */
  fromActor?: number
}

export interface RequestOptions extends SendOptions {
  timeoutMs?: number
}

export interface EndpointOptions {
  id: number
  generation: number
  doorbell: SharedArrayBuffer
  clock?: Clock
  idle?: Partial<IdlePolicy>
  /** Start the receive loop now (default) or later with start(). */
  start?: boolean
  /** Capacity of the ring to itself. */
  localRingBytes?: number
  /** Called for a one-way message nobody could take (unknown actor, failed handler). */
  onDeadLetter?: (msg: Message, reason: KvError) => void
}

export interface EndpointStats {
  sent: number
  received: number
  requests: number
  queued: number
  staleResponses: number
  staleRejected: number
  unknownActor: number
  deadLetters: number
  repliesDropped: number
  timeouts: number
  parks: number
  flushes: number
  loopRuns: number
}

const noTimeout = 0

export class Endpoint {
  readonly id: number
  readonly generation: number
  readonly clock: Clock
  readonly doorbell: DoorbellLocal
  readonly stats: EndpointStats = {
    sent: 0, received: 0, requests: 0, queued: 0, staleResponses: 0, staleRejected: 0,
    unknownActor: 0, deadLetters: 0, repliesDropped: 0, timeouts: 0, parks: 0, flushes: 0, loopRuns: 0,
  }
  /** Indexed by endpoint id; includes ourselves. */
  private readonly peers: (Peer | undefined)[] = []
  /** The same peers, for iteration by the receive loop. */
  peerList: Peer[] = []
  private readonly actors = new Map<number, Handler>()
  private readonly requests = new RequestTable()
  private readonly dirty: Peer[] = []
  private readonly queuedPeers: Peer[] = []
  private readonly listeners: PeerListener[] = []
  private readonly msg = new Message()
  private readonly response = new Message()
  private readonly loop: ReceiveLoop
  private readonly onDeadLetter: ((msg: Message, reason: KvError) => void) | undefined
  private flushScheduled = false
  /**
   * Requests written into a ring and not yet published, and when each was written: their
   * deadlines move by the wait at publish (§3).
   */
  private readonly unpublishedIds: number[] = []
  private readonly unpublishedAtMs: number[] = []
  /** Requests waiting in an overflow queue (§5), no fragment written yet: their destination has not seen them. */
  private readonly queuedRequestIds = new Set<number>()
  private sweepTimer: TimerHandle | undefined
  /** While the loop dispatches a batch: its clock reading; else NaN (read the clock). */
  batchNowMs = NaN
  /** Set by any send; the loop keeps polling for a while after activity. */
  active = false
  private closedError: KvError | undefined
  private current: Peer | undefined

  constructor(opts: EndpointOptions) {
    assertInteger(opts.id, 0, 0xffff, 'endpoint id')
    this.id = opts.id
    this.generation = opts.generation
    this.clock = opts.clock ?? systemClock
    this.doorbell = new DoorbellLocal(opts.doorbell)
    this.onDeadLetter = opts.onDeadLetter
    const self = createRing(opts.localRingBytes ?? mailboxRingBytesDefault)
    this.installPeer({ id: this.id, generation: this.generation, outRing: self, inRing: self, doorbell: opts.doorbell }, false)
    this.loop = new ReceiveLoop(this, opts.idle ?? {})
    if (opts.start !== false) this.loop.start()
  }

  /** Starts reading inbound rings (a node starts after its setup registered its actors). */
  start(): void {
    this.loop.start()
  }

  // ---- actors ----

  register(actor: number, handler: Handler): void {
    assertInteger(actor, 0, actorIdMax, 'actor id')
    assert(!this.actors.has(actor), `actor ${actor} is already registered on endpoint ${this.id}`)
    this.actors.set(actor, handler)
  }

  unregister(actor: number): void {
    this.actors.delete(actor)
  }

  // ---- peers (installed by the supervisor or the node worker, §8) ----

  installPeer(link: PeerLink, notify = true): void {
    const old = this.peers[link.id]
    if (old !== undefined && link.id !== this.id) this.removePeer(link.id, old.generation, false)
    const peer = new Peer(link.id, link.generation, link.outRing, link.inRing, link.doorbell)
    this.peers[link.id] = peer
    this.peerList = this.peers.filter((p): p is Peer => p !== undefined)
    if (notify) for (const l of this.listeners) l(link.id, true, link.generation)
    this.doorbell.ring() // records may already wait in the new inbound ring
  }

  /** The peer died (or restarts): fail what we asked of it, drop its rings. */
  removePeer(id: number, generation: number, notify = true): void {
    const peer = this.peers[id]
    if (peer === undefined || peer.generation !== generation || id === this.id) return
    this.peers[id] = undefined
    this.peerList = this.peers.filter((p): p is Peer => p !== undefined)
    peer.queue.clear()
    const failed: ResponseCallback[] = []
    const ids: number[] = []
    this.requests.collect(0, id, failed, ids)
    for (const x of ids) this.queuedRequestIds.delete(x)
    const err = new KvError('KV_UNAVAILABLE', `node ${id} (generation ${generation}) is down`, { node: id })
    for (const cb of failed) cb(err, undefined)
    if (notify) for (const l of this.listeners) l(id, false, generation)
  }

  onPeer(listener: PeerListener): () => void {
    this.listeners.push(listener)
    return () => {
      const i = this.listeners.indexOf(listener)
      if (i >= 0) this.listeners.splice(i, 1)
    }
  }

  isUp(id: number): boolean {
    return this.peers[id] !== undefined
  }

  peerIds(): number[] {
    return this.peerList.map((p) => p.id)
  }

  // ---- sending ----

  send(to: number, actor: number, type: number, payload: Uint8Array, opts?: SendOptions): void {
    const peer = this.destination(to, actor, type, payload.length)
    this.emit(peer, Kind.MESSAGE, type, actor, 0, opts?.fromActor ?? 0, Infinity, payload, 0, payload.length, undefined, opts?.failFast === true, true)
  }

  /** Zero-copy send: `write` fills `length` bytes directly in the ring. */
  sendWith(to: number, actor: number, type: number, length: number, write: PayloadWriter, opts?: SendOptions): void {
    const peer = this.destination(to, actor, type, length)
    this.emit(peer, Kind.MESSAGE, type, actor, 0, opts?.fromActor ?? 0, Infinity, undefined, 0, length, write, opts?.failFast === true, true)
  }

  /**
   * Sends a request; `cb` is called exactly once, asynchronously, with the response or a
   * KvError (KV_TIMEOUT, KV_UNAVAILABLE, KV_CLOSED or the handler's error). Argument, closed
   * and overload errors are thrown synchronously instead, and then `cb` is never called.
   */
  request(to: number, actor: number, type: number, payload: Uint8Array, cb: ResponseCallback, opts?: RequestOptions): void {
    this.requestImpl(to, actor, type, payload, undefined, payload.length, cb, opts)
  }

  requestWith(to: number, actor: number, type: number, length: number, write: PayloadWriter, cb: ResponseCallback, opts?: RequestOptions): void {
    this.requestImpl(to, actor, type, undefined, write, length, cb, opts)
  }

  /** The Promise form: resolves with a copy of the response payload. */
  requestAsync(to: number, actor: number, type: number, payload: Uint8Array, opts?: RequestOptions): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.request(to, actor, type, payload, (err, res) => (err !== undefined ? reject(err) : resolve(res!.copyPayload())), opts)
    })
  }

  private requestImpl(
    to: number, actor: number, type: number, payload: Uint8Array | undefined, write: PayloadWriter | undefined,
    length: number, cb: ResponseCallback, opts: RequestOptions | undefined,
  ): void {
    const peer = this.destination(to, actor, type, length)
    const timeoutMs = opts?.timeoutMs ?? runtimeRequestTimeoutMsDefault
    if (!(timeoutMs > 0 && timeoutMs <= runtimeRequestTimeoutMsMax)) throw invalidArgument(`timeoutMs must be in (0, ${runtimeRequestTimeoutMsMax}]`, { timeoutMs })
    const deadline = this.nowMs() + timeoutMs
    const id = this.requests.add(to, deadline, cb)
    if (id === 0) throw new KvError('KV_OVERLOADED', `more than ${this.requests.capacity} requests in flight`, { limit: this.requests.capacity })
    try {
      this.emit(peer, Kind.REQUEST, type, actor, id, opts?.fromActor ?? 0, deadline, payload, 0, length, write, opts?.failFast === true, true)
    } catch (err) {
      this.requests.take(id, to)
      throw err
    }
    this.stats.requests++
    if (this.sweepTimer === undefined) this.sweepTimer = this.clock.setTimeout(this.sweep, deadlineSweepMs)
  }

  reply(target: ReplyTarget, payload: Uint8Array, type = target.type): void {
    this.replyRaw(target, payload, 0, payload.length, type)
  }

  /** Replies with bytes[offset, offset + length) (e.g. straight from a received message). */
  replyRaw(target: ReplyTarget, bytes: Uint8Array, offset: number, length: number, type = target.type): void {
    const peer = this.replyPeer(target)
    if (peer === undefined) return
    this.checkLength(length)
    this.emit(peer, Kind.RESPONSE, type, target.actor, target.requestId, target.actor, Infinity, bytes, offset, length, undefined, false, false)
  }

  replyWith(target: ReplyTarget, length: number, write: PayloadWriter, type = target.type): void {
    const peer = this.replyPeer(target)
    if (peer === undefined) return
    this.checkLength(length)
    this.emit(peer, Kind.RESPONSE, type, target.actor, target.requestId, target.actor, Infinity, undefined, 0, length, write, false, false)
  }

  replyError(target: ReplyTarget, err: KvError): void {
    const peer = this.replyPeer(target)
    if (peer === undefined) return
    const bytes = encodeError(err)
    this.emit(peer, Kind.ERROR, target.type, target.actor, target.requestId, target.actor, Infinity, bytes, 0, bytes.length, undefined, false, false)
  }

  private replyPeer(target: ReplyTarget): Peer | undefined {
    if (target.requestId === 0) throw invalidArgument('reply to a message that is not a request')
    this.checkOpen()
    const peer = this.peers[target.from]
    if (peer === undefined || peer.generation16 !== target.generation) {
      this.stats.repliesDropped++ // the requester died; its restarted self never asked
      return undefined
    }
    return peer
  }

  private destination(to: number, actor: number, type: number, length: number): Peer {
    this.checkOpen()
    if (!Number.isInteger(actor) || actor < 0 || actor > actorIdMax) throw invalidArgument(`actor id must be an integer in [0, ${actorIdMax}]`, { actor })
    if (!Number.isInteger(type) || type < 0 || type > typeMax) throw invalidArgument(`message type must be an integer in [0, ${typeMax}]`, { type })
    this.checkLength(length)
    const peer = Number.isInteger(to) && to >= 0 ? this.peers[to] : undefined
    if (peer === undefined) throw new KvError('KV_UNAVAILABLE', `node ${to} is not up`, { node: to })
    return peer
  }

  private checkLength(length: number): void {
    if (!(length >= 0 && length <= messageBytesMax)) throw invalidArgument(`message payload of ${length} bytes exceeds messageBytesMax (${messageBytesMax})`, { length, limit: messageBytesMax })
  }

  private checkOpen(): void {
    if (this.closedError !== undefined) throw this.closedError
  }

  nowMs(): number {
    return this.batchNowMs === this.batchNowMs ? this.batchNowMs : this.clock.monotonicMs()
  }

  /** Writes one record, or queues the message (§5). Validation has been done. */
  private emit(
    peer: Peer, kind: number, type: number, actor: number, requestId: number, fromActor: number, deadlineMs: number,
    src: Uint8Array | undefined, srcOffset: number, length: number, write: PayloadWriter | undefined,
    failFast: boolean, limited: boolean,
  ): void {
    const w = peer.writer
    if (peer.queue.length === 0 && length <= peer.fragmentPayloadMax) {
      const pos = w.reserve(length)
      if (pos >= 0) {
        const timeoutMs = deadlineMs === Infinity ? noTimeout : Math.max(1, Math.ceil(deadlineMs - this.nowMs()))
        this.writeHeader(peer, pos, kind, 0, type, actor, requestId, fromActor, timeoutMs)
        const at = pos + HEADER_BYTES
        if (write !== undefined) write(w.u8, at)
        else if (length <= 64) {
          const dst = w.u8
          for (let i = 0; i < length; i++) dst[at + i] = src![srcOffset + i]!
        } else w.u8.set(src!.subarray(srcOffset, srcOffset + length), at)
        w.commit(pos, length)
        this.stats.sent++
        if (kind === Kind.REQUEST) this.written(requestId, this.nowMs())
        this.markDirty(peer)
        return
      }
    }
    if (failFast && length <= peer.fragmentPayloadMax) {
      throw new KvError('KV_OVERLOADED', `the mailbox ring to node ${peer.id} is full`, { node: peer.id })
    }
    if (limited && (peer.queue.length >= overflowMessagesMax || peer.queue.bytes + length > overflowBytesMax)) {
      throw new KvError('KV_OVERLOADED', `the queue to node ${peer.id} is full (${overflowMessagesMax} messages or ${overflowBytesMax} bytes)`, { node: peer.id, limit: overflowMessagesMax })
    }
    let payload: Uint8Array
    if (write !== undefined) {
      payload = new Uint8Array(length)
      write(payload, 0)
    } else payload = src!.slice(srcOffset, srcOffset + length)
    peer.queue.push({ kind, type, actor, requestId, fromActor, deadlineMs, payload, sent: 0 })
    if (kind === Kind.REQUEST) this.queuedRequestIds.add(requestId)
    this.stats.queued++
    if (!peer.queued) {
      peer.queued = true
      this.queuedPeers.push(peer)
    }
    this.pump(peer)
  }

  private writeHeader(peer: Peer, pos: number, kind: number, flags: number, type: number, actor: number, requestId: number, fromActor: number, timeoutMs: number): void {
    const d32 = peer.writer.d32
    const p = pos >> 2
    d32[p + H_VKF] = packVkf(kind, flags)
    d32[p + H_TYPE_GEN] = type | ((this.generation & 0xffff) << 16)
    d32[p + H_ACTOR] = actor
    d32[p + H_REQUEST_ID] = requestId
    d32[p + H_FROM_ACTOR] = fromActor
    d32[p + H_TIMEOUT_MS] = timeoutMs
  }

  /** Moves queued messages (and fragments) into the ring while it has space. */
  private pump(peer: Peer): boolean {
    const q = peer.queue
    const w = peer.writer
    // The clock when these records are written (not a drain's start): their budgets (§3).
    let now = NaN
    let m: QueuedMessage | undefined
    while ((m = q.peek()) !== undefined) {
      if (now !== now) now = this.clock.monotonicMs()
      if (m.kind === Kind.REQUEST && m.sent === 0 && (m.deadlineMs <= now || !this.requests.isLive(m.requestId))) {
        // Never sent, and now never will be: the sweep fails it as unseen (§3), or already has.
        q.shift()
        continue
      }
      const chunk = Math.min(m.payload.length - m.sent, peer.fragmentPayloadMax)
      let pos = w.reserve(chunk)
      if (pos < 0) {
        w.setWaiting() // then look again: the consumer may have freed space meanwhile (§5)
        pos = w.reserve(chunk)
        if (pos < 0) {
          this.markDirty(peer) // a PAD may have been written
          return false
        }
      }
      const more = m.sent + chunk < m.payload.length
      // Once a fragment is in the ring the node may see the request: it is no longer unseen.
      if (m.sent === 0 && m.kind === Kind.REQUEST) this.queuedRequestIds.delete(m.requestId)
      const timeoutMs = m.deadlineMs === Infinity ? noTimeout : Math.max(1, Math.ceil(m.deadlineMs - now))
      this.writeHeader(peer, pos, m.kind, more ? FLAG_MORE : 0, m.type, m.actor, m.requestId, m.fromActor, timeoutMs)
      w.u8.set(m.payload.subarray(m.sent, m.sent + chunk), pos + HEADER_BYTES)
      w.commit(pos, chunk)
      m.sent += chunk
      this.markDirty(peer)
      if (!more) {
        q.shift()
        if (m.kind === Kind.REQUEST) this.written(m.requestId, now)
        this.stats.sent++
      }
    }
    return true
  }

  /** Called by the loop: retries every queue. Returns whether any is still waiting. */
  pumpAll(): boolean {
    const list = this.queuedPeers
    if (list.length === 0) return false
    let waiting = false
    for (let i = 0; i < list.length; i++) {
      const peer = list[i]!
      if (this.peers[peer.id] !== peer || this.pump(peer)) {
        peer.queued = false
        list[i] = list[list.length - 1]!
        list.pop()
        i--
      } else waiting = true
    }
    return waiting
  }

  get hasQueued(): boolean {
    return this.queuedPeers.length > 0
  }

  private markDirty(peer: Peer): void {
    this.active = true
    if (peer.dirty) return
    peer.dirty = true
    this.dirty.push(peer)
    if (this.batchNowMs !== this.batchNowMs && !this.flushScheduled) {
      this.flushScheduled = true
      queueMicrotask(this.flush)
    }
  }

  /** Publishes every written ring and rings each parked destination once (§4). */
  readonly flush = (): void => {
    this.flushScheduled = false
    if (this.unpublishedIds.length > 0) this.startBudgets()
    const list = this.dirty
    for (let i = 0; i < list.length; i++) {
      const peer = list[i]!
      peer.dirty = false
      peer.writer.publish()
      peer.bell.ringIfParked()
      this.stats.flushes++
    }
    list.length = 0
    // A send from outside the loop while it is parked: wake it, so that it polls for the
    // answer instead of waiting for a doorbell (RUNTIME.md §4).
    if (this.doorbell.parked) this.doorbell.ring()
  }

  /** Request `id`'s record (its last fragment) was written into a ring at `atMs`, not yet published. */
  private written(id: number, atMs: number): void {
    this.unpublishedIds.push(id)
    this.unpublishedAtMs.push(atMs)
  }

  /**
   * A request's budget starts when its record is published (§3): one written while this
   * thread went on with other work (a long synchronous stretch that issues requests, a
   * handler) has its deadline moved by that wait, so that its destination is not held
   * to time it never had.
   */
  private startBudgets(): void {
    const now = this.clock.monotonicMs()
    const ids = this.unpublishedIds
    const at = this.unpublishedAtMs
    for (let i = 0; i < ids.length; i++) if (now > at[i]!) this.requests.postpone(ids[i]!, now - at[i]!)
    ids.length = 0
    at.length = 0
  }

  // ---- receiving (called by the receive loop) ----

  /** Takes up to `max` records from every inbound ring; returns how many. */
  drainOnce(max: number): number {
    let n = 0
    const list = this.peerList
    for (let i = 0; i < list.length; i++) {
      const peer = list[i]!
      this.current = peer
      n += peer.reader.take(this.onRecord, max)
      if (peer.reader.release()) peer.bell.ringIfParked()
    }
    this.current = undefined
    this.stats.received += n
    return n
  }

  anyInbound(): boolean {
    const list = this.peerList
    for (let i = 0; i < list.length; i++) if (list[i]!.reader.hasData()) return true
    return false
  }

  private readonly onRecord = (ring: RingReader, pos: number): void => {
    const peer = this.current!
    const d32 = ring.d32
    const p = pos >> 2
    const vkf = d32[p + H_VKF]!
    assert((vkf & 0xff) === ENVELOPE_VERSION, `unknown envelope version ${vkf & 0xff}`)
    const kind = (vkf >>> 8) & 0xff
    const typeGen = d32[p + H_TYPE_GEN]!
    if (typeGen >>> 16 !== peer.generation16) {
      this.stats.staleRejected++
      return
    }
    const length = (d32[p]! >>> 0) - HEADER_BYTES
    let bytes = ring.u8
    let offset = pos + HEADER_BYTES
    let total = length
    if ((vkf >>> 16) & FLAG_MORE) {
      if (ring.partial === null) ring.partial = []
      ring.partial.push(bytes.slice(offset, offset + length))
      ring.partialBytes += length
      return
    }
    if (ring.partial !== null) {
      ring.partial.push(bytes.subarray(offset, offset + length))
      total = ring.partialBytes + length
      bytes = Buffer.concat(ring.partial, total)
      offset = 0
      ring.partial = null
      ring.partialBytes = 0
    }
    const timeoutMs = d32[p + H_TIMEOUT_MS]! >>> 0
    const m = kind === Kind.RESPONSE || kind === Kind.ERROR ? this.response : this.msg
    m.from = peer.id
    m.kind = kind
    m.type = typeGen & 0xffff
    m.generation = typeGen >>> 16
    m.actor = d32[p + H_ACTOR]! >>> 0
    m.requestId = d32[p + H_REQUEST_ID]! >>> 0
    m.fromActor = d32[p + H_FROM_ACTOR]! >>> 0
    m.deadlineMs = timeoutMs === 0 ? Infinity : this.nowMs() + timeoutMs
    m.bytes = bytes
    m.offset = offset
    m.length = total
    if (m === this.response) this.complete(m)
    else this.dispatch(m)
  }

  private complete(m: Message): void {
    const cb = this.requests.take(m.requestId, m.from)
    if (cb === undefined) {
      this.stats.staleResponses++
      return
    }
    if (m.kind === Kind.ERROR) cb(decodeError(m.bytes, m.offset, m.length, { node: m.from, actor: m.actor }), undefined)
    else cb(undefined, m)
  }

  private dispatch(m: Message): void {
    const handler = this.actors.get(m.actor)
    if (handler === undefined) {
      this.stats.unknownActor++
      this.reject(m, invalidArgument(`no actor ${m.actor} on node ${this.id}`, { node: this.id, actor: m.actor }))
      return
    }
    try {
      handler(m)
    } catch (err) {
      if (!isKvError(err)) throw err // a programmer error crashes the thread (STYLE.md 5)
      this.reject(m, err)
    }
  }

  private reject(m: Message, err: KvError): void {
    if (m.kind === Kind.REQUEST) {
      if (this.closedError === undefined) this.replyError(m, err)
      return
    }
    this.stats.deadLetters++
    this.onDeadLetter?.(m, err)
  }

  // ---- deadlines and close ----

  /**
   * Reads what the inbound rings hold now. Deadline sweeps (this one's, a coordinator's) call
   * it first: an answer that arrived while this thread was busy elsewhere (a long synchronous
   * stretch of the application, a GC pause) must not fail its request because it was read
   * late. Does nothing from inside a drain (a handler may drive an injected clock).
   */
  readInbound(): void {
    if (this.current === undefined && this.anyInbound()) this.loop.drain()
  }

  private readonly sweep = (): void => {
    this.sweepTimer = undefined
    this.readInbound()
    const expired: ResponseCallback[] = []
    const ids: number[] = []
    this.requests.collect(this.clock.monotonicMs(), -1, expired, ids)
    if (expired.length > 0) {
      this.stats.timeouts += expired.length
      const err = new KvError('KV_TIMEOUT', 'request deadline passed', {})
      // One still in an overflow queue, no fragment of it written, was never seen by its
      // destination, which is not to blame for it (§3); the queue drops it unsent.
      let unseen: KvError | undefined
      for (let i = 0; i < expired.length; i++) {
        if (this.queuedRequestIds.size > 0 && this.queuedRequestIds.delete(ids[i]!)) {
          unseen ??= new KvError('KV_TIMEOUT', 'request deadline passed while it waited for room in the mailbox to its destination', { published: false })
          expired[i]!(unseen, undefined)
        } else expired[i]!(err, undefined)
      }
    }
    if (this.requests.pending > 0 && this.closedError === undefined) this.sweepTimer = this.clock.setTimeout(this.sweep, deadlineSweepMs)
  }

  get pendingRequests(): number {
    return this.requests.pending
  }

  get closed(): boolean {
    return this.closedError !== undefined
  }

  /** Refuses new sends from now on (§9); what is in flight goes on. */
  refuse(err: KvError): void {
    if (this.closedError === undefined) this.closedError = err
  }

  /** Stops: fails every pending request with `err`, drops queues, stops the loop. */
  close(err: KvError = new KvError('KV_CLOSED', 'the runtime is closed')): { requestsFailed: number; messagesUndelivered: number } {
    this.refuse(err)
    this.flush()
    let undelivered = 0
    for (const p of this.peerList) undelivered += p.queue.clear().filter((m) => m.kind !== Kind.REQUEST).length
    this.queuedRequestIds.clear()
    this.queuedPeers.length = 0
    const failed: ResponseCallback[] = []
    this.requests.collectAll(failed)
    for (const cb of failed) cb(err, undefined)
    this.sweepTimer?.cancel()
    this.sweepTimer = undefined
    this.loop.stop()
    return { requestsFailed: failed.length, messagesUndelivered: undelivered }
  }
}
