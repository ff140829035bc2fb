// Drives the pure coordinator machines (PutMachine, GetMachine, GetCoalescer) over a
// Transport (PROTOCOL.md §9.5). The same class runs on the caller's thread (client-driven
// coordination, Dynamo §6.4) and inside a node's coordinator actor. It owns: target
// selection (preference table + failure detector), replica requests (batched per node by its
// ReplicaOutbox, §9.7), deadline sweeps, read repair sends and per-node in-flight counts.

import type { KvError } from '../../errors'
import type { Transport } from '../../transport'
import type { Clock, TimerHandle } from '../../util/clock'
import { PutMachine, type PutEffect } from '../coordinator/put_machine'
import { GetMachine, type GetEffect } from '../coordinator/get_machine'
import { GetCoalescer, getGroupKey } from '../coordinator/get_coalescer'
import type { CoordinatorInput } from '../coordinator/messages'
import type { SuspicionTable } from '../membership/suspicion'
import type { PreferenceTable } from '../ring/preference_list'
import { chooseCoordinator, coordinatorFirst, selectTargets, type Target } from '../ring/sloppy_targets'
import type { ConflictPolicy } from '../versioning/conflict_policy'
import type { DvvObject } from '../versioning/dvv_object'
import { decodeObject, encodeObject } from '../versioning/object_codec'
import { encodeContext } from '../versioning/causal_context'
import { join, liveSiblings } from '../versioning/dvv_object'
import { vnodeActor, VnodeType } from '../wire/actors'
import { decodeObjectReply, decodeWriteReply, encodeKeyed, encodeWrite, type WireWrite } from '../wire/replica_wire'
import { ReplicaOutbox } from './replica_outbox'
import type { RowCache } from '../cache/row_cache'
import { readCacheRepairEvery, tombstoneGraceMsDefault } from '../../constants'
import { CacheReader, type DifferingObjects } from './cache_reader'
import { mergeAnswers, staleReplicas } from '../coordinator/read_repair'

/** A put's answer: the client's new context, §4.4 encoding. */
export type PutCallback = (err: KvError | undefined, context: Buffer | undefined) => void
/** A read-cache answer that merged the R primaries' differing objects (§9.8). */
export interface MergedFromCaches {
  readonly merged: DvvObject
}

/** A get's answer: the merged object (undefined: not found). */
export type GetCallback = (err: KvError | undefined, object: DvvObject | undefined) => void

export interface DriverOptions {
  readonly transport: Transport
  readonly clock: Clock
  readonly detector: SuspicionTable
  readonly policy: ConflictPolicy
  readonly replicaTimeoutMs: number
  /** Read repair after gets (default true). */
  readonly readRepair?: boolean
  /** The nodes' shared read caches by node id (§9.8; embedded, client-driven only). */
  readonly readCaches?: readonly (RowCache | undefined)[]
  /** The nodes' tombstone grace (§4.5; default tombstoneGraceMsDefault): read repair skips what storage dropped. */
  readonly tombstoneGraceMs?: number
}

export interface DriverStats {
  puts: number
  gets: number
  getRounds: number
  /** Gets answered from the read caches (§9.8), without a message. */
  cacheHits: number
  /** Of cacheHits, those that merged differing objects of the R primaries (a write on its way, §9.8). */
  cacheMerges: number
  /** Background quorum rounds started after cache answers (readCacheRepairEvery, §9.8). */
  cacheRepairRounds: number
  repairsSent: number
  timeouts: number
  unavailable: number
  /** Replica requests outstanding per node. */
  inFlight: Record<number, number>
  /** BATCH messages sent and the replica requests they carried (§9.7). */
  batches: number
  batchedRequests: number
}

const deadlineSweepMs = 25

interface Run {
  readonly deadlineMs: number
  /** Failures, the deadline, or what the run's own decoders made of its answers (typed for its machine). */
  step(input: CoordinatorInput<unknown, unknown>): void
}

/**
 * Decodes a replica's answer to `run` (a view, valid during the call) into the machine's
 * input; undefined when the answer led to a further request instead.
 */
type ReplyDecoder = (resp: Buffer, node: number, run: Run) => CoordinatorInput<unknown, unknown> | undefined

/** A READ's answer: the stored object, or none (one function for every round: nothing allocated per get). */
const readAnswer: ReplyDecoder = (resp, node, run) => {
  const b = decodeObjectReply(resp)
  return { type: 'reply', node, ok: true, object: b === undefined ? undefined : (run as GetRound).decodeShared(b) }
}

const ignoreAnswer: GetCallback = () => undefined

/** A REPLICATE's answer: an acknowledgement. */
const replicated: ReplyDecoder = (_resp, node) => ({ type: 'reply', node, ok: true })

/** A client WRITE's answer (RequestDriver.coordinated). */
const writeAnswer: ReplyDecoder = (resp, node, run) => (run as PutRound).driver.coordinated(run as PutRound, resp, node, false)

/** The answer to the WRITE of a resolver's value. */
const resolvedWriteAnswer: ReplyDecoder = (resp, node, run) => (run as PutRound).driver.coordinated(run as PutRound, resp, node, true)

/**
 * One put: its machine and what its effects share. Objects and contexts travel as bytes, from
 * the coordinating replica's answer to the other replicas and the client (§9.5).
 */
class PutRound implements Run {
  /** The key's latin1 string while counted in RequestDriver.writing, else undefined. */
  writingKey: string | undefined

  constructor(
    readonly driver: RequestDriver,
    readonly machine: PutMachine<WireWrite, Buffer, Buffer>,
    readonly write: WireWrite,
    readonly partition: number,
    readonly deadlineMs: number,
    readonly cb: PutCallback,
  ) {}

  step(input: CoordinatorInput<unknown, unknown>): void {
    this.driver.putEffects(this, this.machine.step(input as CoordinatorInput<Buffer, Buffer>))
  }
}

interface GetWaiter {
  readonly cb: GetCallback
  readonly key: Buffer
  readonly r: number
  readonly timeoutMs: number
}

/** One get round: its machine and the state its effects share. Effects are carried out by the driver. */
class GetRound implements Run {
  // Replicas usually answer the same bytes: decode once and share the object (merging an
  // object with itself is free, see mergeObjects).
  private lastRaw: Buffer | undefined
  private lastObject: DvvObject | undefined

  constructor(
    private readonly driver: RequestDriver,
    readonly machine: GetMachine,
    readonly key: Buffer,
    readonly partition: number,
    readonly targets: readonly Target[],
    readonly waiters: readonly GetWaiter[],
    readonly deadlineMs: number,
  ) {}

  step(input: CoordinatorInput<unknown, unknown>): void {
    this.driver.getEffects(this, this.machine.step(input as CoordinatorInput))
  }

  hintOf(node: number): number {
    for (const t of this.targets) if (t.node === node) return t.hintFor ?? 0
    return 0
  }

  decodeShared(b: Buffer): DvvObject {
    if (this.lastRaw !== undefined && this.lastRaw.equals(b)) return this.lastObject!
    this.lastRaw = Buffer.from(b)
    this.lastObject = decodeObject(this.lastRaw)
    return this.lastObject
  }
}

export class RequestDriver {
  private table: PreferenceTable
  private readonly coalescer = new GetCoalescer<GetWaiter>()
  private readonly outbox: ReplicaOutbox<Run, ReplyDecoder>
  private roundsScheduled = false
  private readonly active = new Set<Run>()
  /**
   * With read caches: puts not done yet (some target has not answered), by latin1 of the key:
   * how many (mergeCached sends no repair for these keys).
   */
  private readonly writing = new Map<string, number>()
  private sweepTimer: TimerHandle | undefined
  /** Replica requests outstanding, by node id (holes: never used). */
  private readonly inFlight: number[] = []
  /** The monotonic clock read once for a synchronous batch (startRounds), else undefined. */
  private batchNowMs: number | undefined
  /** Per partition of `table`: its primaries as read targets (what selectTargets gives when all are healthy). */
  private primaryTargets: (readonly Target[] | undefined)[] = []
  readonly counters = { puts: 0, gets: 0, getRounds: 0, cacheHits: 0, cacheMerges: 0, cacheRepairRounds: 0, repairsSent: 0, timeouts: 0, unavailable: 0 }
  private readonly isHealthy = (node: number): boolean => this.healthyAt(node, this.batchNowMs ?? this.o.clock.monotonicMs())
  /** The one health rule: this node, or up and not suspected at `nowMs`. */
  private readonly healthyAt = (node: number, nowMs: number): boolean =>
    node === this.o.transport.self || (this.o.transport.isUp(node) && this.o.detector.isHealthy(node, nowMs))

  /** The read caches (§9.8), when some node has one. */
  private readonly caches: CacheReader | undefined

  constructor(private readonly o: DriverOptions, table: PreferenceTable) {
    this.table = table
    const caching = o.readCaches?.some((c) => c !== undefined) ?? false
    this.caches = caching ? new CacheReader(o.readCaches!, this.healthyAt, o.clock) : undefined
    this.outbox = new ReplicaOutbox(o.transport, o.clock, this.answer)
  }

  setTable(table: PreferenceTable): void {
    this.table = table
    this.primaryTargets = []
  }

  get preferenceTable(): PreferenceTable {
    return this.table
  }

  healthy(node: number): boolean {
    return this.isHealthy(node)
  }

  stats(): DriverStats {
    const inFlight: Record<number, number> = {}
    this.inFlight.forEach((n, node) => {
      inFlight[node] = n
    })
    return { ...this.counters, inFlight, batches: this.outbox.counters.batches, batchedRequests: this.outbox.counters.items }
  }

  // ---- put ----

  /** A client write with W = w; `timeoutMs` is the whole request's budget. */
  put(write: WireWrite, w: number, timeoutMs: number, cb: PutCallback): void {
    this.counters.puts++
    // One clock read for the whole synchronous start (health checks, deadline, replica timeouts).
    const outer = this.batchNowMs
    const now = (this.batchNowMs = outer ?? this.o.clock.monotonicMs())
    try {
      const partition = this.table.partitionOf(write.key)
      const { targets, spares } = this.writeTargets(partition)
      const machine = new PutMachine<WireWrite, Buffer, Buffer>({ key: write.key, write, targets, spares, w })
      const round = new PutRound(this, machine, write, partition, now + timeoutMs, cb)
      this.track(round)
      if (this.caches !== undefined) {
        round.writingKey = write.key.toString('latin1')
        this.writing.set(round.writingKey, (this.writing.get(round.writingKey) ?? 0) + 1)
      }
      this.putEffects(round, machine.start())
    } finally {
      this.batchNowMs = outer
    }
  }

  /**
   * selectTargets' targets and spares for a write, the coordinator first (§5.2). While every
   * primary is healthy the targets are the shared read targets (reordered only when this
   * thread is a primary other than the first).
   */
  private writeTargets(partition: number): { targets: readonly Target[]; spares: readonly number[] } {
    const { primaries, fallbacks } = this.table.entry(partition)
    const self = this.o.transport.self
    if (this.allHealthy(primaries)) {
      const shared = this.primaryTargetsOf(partition, primaries)
      const targets = primaries[0] === self || !primaries.includes(self) ? shared : coordinatorFirst(shared, self)
      return { targets, spares: fallbacks.length === 0 ? fallbacks : fallbacks.filter(this.isHealthy) }
    }
    const sel = selectTargets(primaries, fallbacks, this.isHealthy)
    const coordinator = chooseCoordinator(sel.targets, self)
    return { targets: coordinator === undefined ? [] : coordinatorFirst(sel.targets, coordinator), spares: sel.spares }
  }

  /** @internal Carries out a put machine's effects (PutRound.step). */
  putEffects(round: PutRound, list: PutEffect<WireWrite, Buffer, Buffer>[]): void {
    for (const e of list) {
      switch (e.type) {
        case 'send': {
          const m = e.message
          if (m.kind === 'coordinateWrite') {
            this.requestRaw(round, e.node, round.partition, VnodeType.WRITE, encodeWrite(m.write), writeAnswer)
          } else if (m.kind === 'replicate') {
            this.requestKeyed(round, e.node, round.partition, VnodeType.REPLICATE, m.hintFor ?? 0, m.key, m.object, replicated)
          }
          break
        }
        case 'reply':
          if (e.result.ok) round.cb(undefined, e.result.context)
          else this.failed(e.result.error, round.cb)
          break
        case 'done':
          this.retire(round)
          break
      }
    }
  }

  /**
   * @internal The coordinating replica's answer to a WRITE (§9.2): the stored object and the
   * client's context, as bytes (copied: `resp` is a view into the mailbox). Under a resolver,
   * an object with concurrent siblings is not the answer yet (undefined): the resolver's value
   * is written at the same replica as a further event with the whole object as context, so
   * that it supersedes what it resolved (§4.3), and that write's answer is the put's. The
   * nodes cannot run the caller's function, so the driver does it here.
   */
  coordinated(round: PutRound, resp: Buffer, node: number, resolved: boolean): CoordinatorInput<Buffer, Buffer> | undefined {
    const r = decodeWriteReply(resp)
    const policy = this.o.policy
    if (!resolved && policy.kind === 'resolver') {
      const object = decodeObject(Buffer.from(r.object)) // (a copy: the resolver may keep the values)
      const live = liveSiblings(object, this.o.clock.nowMs())
      if (live.length > 1) {
        const key = round.write.key
        const again: WireWrite = { key, value: policy.resolve(live), ttlMs: round.write.ttlMs, context: encodeContext(key, join(object)) }
        this.requestRaw(round, node, round.partition, VnodeType.WRITE, encodeWrite(again), resolvedWriteAnswer)
        return undefined
      }
    }
    // Copies: `resp` is a view into the mailbox. (Small copies share Node's 8 KiB pool slabs,
    // so a context the client keeps may keep its slab, and neighbouring objects, alive.)
    return { type: 'reply', node, ok: true, object: Buffer.from(r.object), context: Buffer.from(r.context) }
  }

  // ---- get ----

  /** A get with R = r. Gets of one key and R in one synchronous run share a round (§5.6). */
  get(key: Buffer, r: number, timeoutMs: number, cb: GetCallback): void {
    this.counters.gets++
    this.round(key, r, timeoutMs, cb)
  }

  /** Joins `cb` to the quorum round of (key, r) that starts at the end of this run. */
  private round(key: Buffer, r: number, timeoutMs: number, cb: GetCallback): void {
    this.coalescer.add(getGroupKey(key, r), { cb, key, r, timeoutMs })
    if (!this.roundsScheduled) {
      this.roundsScheduled = true
      queueMicrotask(this.startRounds)
    }
  }

  private readonly startRounds = (): void => {
    this.roundsScheduled = false
    // One clock read for the batch: deadlines and health checks of gets that arrived together.
    const now = (this.batchNowMs = this.o.clock.monotonicMs())
    try {
      for (const round of this.coalescer.takeRounds()) {
        const first = round.waiters[0]!
        this.startGet(first.key, first.r, round.waiters, now)
      }
    } finally {
      this.batchNowMs = undefined
    }
  }

  /** Objects that died at or before this may be gone from storage (§4.5). */
  private deadBeforeMs(): number {
    return this.o.clock.nowMs() - (this.o.tombstoneGraceMs ?? tombstoneGraceMsDefault)
  }

  private startGet(key: Buffer, r: number, waiters: readonly GetWaiter[], now: number): void {
    this.counters.getRounds++
    const partition = this.table.partitionOf(key)
    const targets = this.readTargets(partition)
    const machine = new GetMachine({ key, targets, r, policy: this.o.policy, readRepair: this.o.readRepair, deadBeforeMs: this.deadBeforeMs() })
    let timeoutMs = 0
    for (const w of waiters) if (w.timeoutMs > timeoutMs) timeoutMs = w.timeoutMs
    const round = new GetRound(this, machine, key, partition, targets, waiters, now + timeoutMs)
    this.track(round)
    this.getEffects(round, machine.start())
  }

  /**
   * A get answered from the read caches (§9.8): the stored object bytes (a copy) the first R
   * primaries' caches agree on, or the merge of their objects when each holds the key but they
   * differ (stale ones are sent a repair, unless a put of the key by this driver is not done:
   * mergeCached), or undefined (a miss, an unhealthy primary, no
   * caches): then call get(), whose quorum round reads every replica and repairs.
   * `key` is used during the call only (it may be a reused scratch buffer).
   */
  cached(key: Buffer, r: number): Uint8Array | MergedFromCaches | undefined {
    const caches = this.caches
    if (caches === undefined) return undefined
    let answer: Uint8Array | MergedFromCaches | undefined = caches.read(this.table, key, r)
    if (answer === undefined) {
      if (caches.differing === undefined) return undefined
      answer = this.mergeCached(key, caches.differing)
      if (answer === undefined) return undefined
    }
    this.counters.gets++
    if (++this.counters.cacheHits % readCacheRepairEvery === 0) {
      // A background round over every replica, so that the ones cache answers skip are repaired too.
      this.counters.cacheRepairRounds++
      this.round(Buffer.from(key), r, this.o.replicaTimeoutMs, ignoreAnswer) // (key may be a scratch view)
    }
    return answer
  }

  /**
   * The merge of the R primaries' differing cached objects (§9.8); repairs those that differ
   * from it, unless a put of this driver for the key is not done: its replication is on its
   * way to them (and one that fails goes to a spare with a hint).
   */
  private mergeCached(key: Buffer, d: DifferingObjects): MergedFromCaches | undefined {
    let objects: DvvObject[]
    try {
      objects = d.objects.map((b) => decodeObject(b))
    } catch {
      return undefined // bytes no replica would send: the quorum round answers (and reports)
    }
    const merged = mergeAnswers(objects, this.o.policy)!
    this.counters.cacheMerges++
    if (this.writing.size > 0 && this.writing.has(key.toString('latin1'))) return { merged }
    const answers = new Map<number, DvvObject | undefined>()
    d.nodes.forEach((node, i) => answers.set(node, objects[i]))
    const stale = staleReplicas(answers, merged, new Set(d.nodes), this.deadBeforeMs())
    if (stale.length > 0) {
      const raw = encodeObject(merged)
      for (const node of stale) this.sendRepair(node, d.partition, key, raw)
    }
    return { merged }
  }

  /** selectTargets' targets for a read (a get uses no spares); shared while every primary is healthy. */
  private readTargets(partition: number): readonly Target[] {
    const { primaries, fallbacks } = this.table.entry(partition)
    if (this.allHealthy(primaries)) return this.primaryTargetsOf(partition, primaries)
    return selectTargets(primaries, fallbacks, this.isHealthy).targets
  }

  private allHealthy(nodes: readonly number[]): boolean {
    for (const n of nodes) if (!this.isHealthy(n)) return false
    return true
  }

  /** The partition's primaries as targets (what selectTargets gives when all are healthy), made once per table. */
  private primaryTargetsOf(partition: number, primaries: readonly number[]): readonly Target[] {
    return (this.primaryTargets[partition] ??= primaries.map((node): Target => ({ node })))
  }

  /** @internal Carries out a get machine's effects (GetRound.step). */
  getEffects(round: GetRound, list: GetEffect[]): void {
    for (const e of list) {
      switch (e.type) {
        case 'send': {
          const node = e.node
          if (e.message.kind === 'read') {
            this.requestKeyed(round, node, round.partition, VnodeType.READ, round.hintOf(node), round.key, undefined, readAnswer)
          } else if (e.message.kind === 'repair') {
            this.sendRepair(node, round.partition, round.key, encodeObject(e.message.object))
          }
          break
        }
        case 'reply':
          for (const w of round.waiters) {
            if (e.result.ok) w.cb(undefined, e.result.object)
            else this.failed(e.result.error, w.cb)
          }
          break
        case 'done':
          this.retire(round)
          break
      }
    }
  }

  // ---- plumbing ----

  /** A one-way REPAIR (§5.5) of `object` (encoded) for `key`; `key` is copied into the message at once. */
  private sendRepair(node: number, partition: number, key: Buffer, object: Uint8Array): void {
    this.counters.repairsSent++
    try {
      this.o.transport.send(node, vnodeActor(partition), VnodeType.REPAIR, encodeKeyed(0, key, object))
    } catch {
      // a node that went down misses the repair; a later read or anti-entropy repairs it
    }
  }

  /** A failed request's answer; background repair rounds (no client waiting) are not counted. */
  private failed(err: KvError, cb: (err: KvError, x: undefined) => void): void {
    if (cb !== ignoreAnswer) {
      if (err.code === 'KV_TIMEOUT') this.counters.timeouts++
      else if (err.code === 'KV_UNAVAILABLE') this.counters.unavailable++
    }
    cb(err, undefined)
  }

  /** A READ or REPLICATE to `node`; its answer (decoded by `ok`) or failure is stepped into `run`. */
  private requestKeyed(run: Run, node: number, partition: number, type: number, hintFor: number, key: Buffer, object: Uint8Array | undefined, ok: ReplyDecoder): void {
    this.outbox.addKeyed(node, run, ok, this.replicaTimeout(run, node), type, partition, hintFor, key, object)
  }

  /** A request with its whole payload (WRITE), answered as requestKeyed's. */
  private requestRaw(run: Run, node: number, partition: number, type: number, payload: Uint8Array, ok: ReplyDecoder): void {
    this.outbox.addRaw(node, run, ok, this.replicaTimeout(run, node), type, partition, payload)
  }

  /** The budget of one replica request (min(replicaTimeoutMs, what the run has left)); counts it in flight. */
  private replicaTimeout(run: Run, node: number): number {
    const remaining = run.deadlineMs - (this.batchNowMs ?? this.o.clock.monotonicMs())
    this.inFlight[node] = (this.inFlight[node] ?? 0) + 1
    return Math.max(1, Math.ceil(Math.min(this.o.replicaTimeoutMs, remaining)))
  }

  /** The outbox's answer to one replica request. `ok` returns undefined when it passed the answer on to a further request. */
  private readonly answer = (node: number, run: Run, ok: ReplyDecoder, err: KvError | undefined, resp: Buffer | undefined, first: boolean): void => {
    this.inFlight[node] = (this.inFlight[node] ?? 1) - 1
    // A batch that timed out counts once against its node, however many requests it carried.
    if (first || err === undefined) this.observe(node, err)
    let input: CoordinatorInput<unknown, unknown> | undefined
    if (err !== undefined) {
      if (err.code === 'KV_TIMEOUT' && err.details['remote'] !== true) input = { type: 'replicaTimeout', node }
      else input = { type: 'reply', node, ok: false, error: err }
    } else {
      try {
        input = ok(resp!, node, run)
      } catch (e) {
        input = { type: 'reply', node, ok: false, error: e as KvError }
      }
    }
    if (input !== undefined) run.step(input)
  }

  /**
   * Feeds the failure detector (§3.3) with the outcome of one request to `node`: any answer,
   * an error included, clears it; a timeout counts against it, unless the node never saw the
   * request (it waited in this thread's queue for room in the node's mailbox: published false).
   */
  observe(node: number, err: KvError | undefined): void {
    if (err === undefined || err.details['remote'] === true) this.o.detector.replyReceived(node)
    else if (err.code === 'KV_TIMEOUT' && err.details['published'] !== false) this.o.detector.replicaTimeout(node, this.o.clock.monotonicMs())
  }

  /**
   * Drops a run that is done, or past its deadline (then before its last step: a run whose
   * 'done' effect was never carried out, e.g. after a callback threw, still leaves here).
   */
  private retire(run: Run): void {
    if (!this.active.delete(run) || !(run instanceof PutRound) || run.writingKey === undefined) return
    const n = this.writing.get(run.writingKey)! - 1
    if (n === 0) this.writing.delete(run.writingKey)
    else this.writing.set(run.writingKey, n)
    run.writingKey = undefined
  }

  private track(run: Run): void {
    this.active.add(run)
    if (this.sweepTimer === undefined) this.sweepTimer = this.o.clock.setTimeout(this.sweep, deadlineSweepMs)
  }

  private readonly sweep = (): void => {
    this.sweepTimer = undefined
    try {
      let now = this.o.clock.monotonicMs()
      let readFirst = false
      for (const run of this.active) {
        if (now < run.deadlineMs) continue
        if (!readFirst) {
          // Replies that arrived while this thread was busy elsewhere are taken into account
          // first; they may finish this run (and others: a finished run leaves `active`).
          readFirst = true
          this.o.transport.readInbound()
          now = this.o.clock.monotonicMs()
          if (!this.active.has(run)) continue
        }
        this.retire(run)
        run.step({ type: 'deadline' })
      }
    } finally {
      // Also when a callback threw: the runs not reached are failed by the next sweep. (A
      // callback that started a request has armed the timer already.)
      if (this.active.size > 0 && this.sweepTimer === undefined) this.sweepTimer = this.o.clock.setTimeout(this.sweep, deadlineSweepMs)
    }
  }

  /** Fails nothing; stops the sweep timer (requests still pending fail through the transport). */
  close(): void {
    this.sweepTimer?.cancel()
    this.sweepTimer = undefined
  }
}
