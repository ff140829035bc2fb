// The supervisor (RUNTIME.md §8, §9): runs on the caller's thread, owns endpoint 0, allocates
// every ring and doorbell, spawns the node workers, tells live nodes when a peer comes up or
// goes down, restarts a crashed node with backoff, and closes everything.

import path from 'node:path'
import { MessageChannel, Worker } from 'node:worker_threads'
import * as Comlink from 'comlink'
import nodeEndpoint from 'comlink/dist/umd/node-adapter'
import { assert } from '../assert'
import {
  closeDrainMs,
  closeTimeoutMs,
  heartbeatIntervalMs,
  nodeStartTimeoutMs,
  restartAttemptsMax,
  restartBackoffMsMax,
  restartBackoffMsMin,
  restartStableMs,
} from '../constants'
import { KvError, isKvError } from '../errors'
import type { Clock, TimerHandle } from '../util'
import type { FromNode, NodeControl, NodeWorkerData, ToNode } from './control'
import { createDoorbell } from './doorbell'
import type { Endpoint } from './endpoint'
import type { PeerLink } from './peer'
import type { IdlePolicy } from './receive_loop'
import { createRing } from './ring'

export interface SupervisorOptions {
  nodes: number
  setupModule: string
  setupData: unknown
  ringBytes: number
  /** Nice levels each node worker lowers its thread's priority by (RUNTIME.md §11). */
  nice: number
  idle: Partial<IdlePolicy>
  clock: Clock
  restartBackoffMsMin?: number
  restartBackoffMsMax?: number
  /**
   * A node that has not answered a heartbeat ping within this is terminated (and restarted as
   * after a crash): its thread is hung (§8). 0 turns the watchdog off (the default).
   */
  hangTimeoutMs?: number
  /** Called when a node exits unexpectedly (before any restart). */
  onNodeExit?: (id: number, generation: number, exitCode: number) => void
}

type SlotState = 'starting' | 'up' | 'down' | 'failed'

interface Slot {
  id: number
  generation: number
  state: SlotState
  worker: Worker | undefined
  doorbell: SharedArrayBuffer
  control: Comlink.Remote<NodeControl> | undefined
  controlPort: import('node:worker_threads').MessagePort | undefined
  upSinceMs: number
  backoffMs: number
  attempts: number
  timer: TimerHandle | undefined
  /** waitUp callers: resolved when the node is up, rejected when it failed for good or the runtime is closing. */
  waiters: { resolve: () => void; reject: (err: KvError) => void }[]
  /** Why the last start failed (its setup's error, or the worker's exit code), for the give-up error. */
  lastFailure: string | undefined
  exited: Promise<void>
  /** Control calls (call()) to the current worker not settled yet: each fails them when it exits. */
  calls: Set<() => void>
  /** Control calls to the current worker that passed their deadline unanswered and are still not answered, with when they were sent. */
  overdue: Map<object, number>
  /** When the current worker last answered a control call (or came up). */
  answeredAtMs: number
  /** The watchdog's wait before the next heartbeat of the current worker. */
  heartbeat: TimerHandle | undefined
  /** Why the last worker of this node ended ('exited with code 1', or the watchdog's reason). */
  lastExit: string | undefined
  /** Set when the watchdog terminates the worker: the reason its exit gets. */
  hung: string | undefined
}

export interface CallOptions {
  /**
   * The node may take long to answer this call while its thread is free (a stop or start that
   * flushes or opens an engine): passing its deadline does not count as silence (call()).
   */
  readonly slow?: boolean
}

export class Supervisor {
  private readonly slots: Slot[] = []
  /** rings.get(`${from}>${to}`): the ring `from` writes and `to` reads, for their current generations. */
  private readonly rings = new Map<string, SharedArrayBuffer>()
  private closing: Promise<{ requestsFailed: number; messagesUndelivered: number }> | undefined
  /** Set by beginClose(): no restart, no heartbeat, no new waitUp from now on. */
  private windingDown = false
  private startFailure: ((err: Error) => void) | undefined

  constructor(
    readonly endpoint: Endpoint,
    private readonly opts: SupervisorOptions,
  ) {
    assert(endpoint.id === 0, 'the supervisor owns endpoint 0')
    for (let id = 1; id <= opts.nodes; id++) {
      this.slots.push({
        id, generation: 0, state: 'down', worker: undefined, doorbell: createDoorbell(), control: undefined, controlPort: undefined,
        upSinceMs: 0, backoffMs: opts.restartBackoffMsMin ?? restartBackoffMsMin, attempts: 0, timer: undefined, waiters: [], lastFailure: undefined, exited: Promise.resolve(), calls: new Set(),
        overdue: new Map(), answeredAtMs: 0, heartbeat: undefined, lastExit: undefined, hung: undefined,
      })
    }
  }

  /** Spawns every node and resolves when all are up (rejects if a setup fails). */
  async start(): Promise<void> {
    const failed = new Promise<never>((_, reject) => (this.startFailure = reject))
    // Every ring first, so that each node starts with links to all the others (§8).
    for (const s of this.slots) this.allocate(s)
    for (const s of this.slots) this.spawn(s, false)
    try {
      await Promise.race([Promise.all(this.slots.map((s) => this.waitUp(s.id))), failed])
    } finally {
      this.startFailure = undefined
    }
  }

  private slot(id: number): Slot {
    const s = this.slots[id - 1]
    assert(s !== undefined, `no node ${id}`)
    return s
  }

  private ring(from: number, to: number): SharedArrayBuffer {
    const r = this.rings.get(`${from}>${to}`)
    assert(r !== undefined, `no ring ${from}>${to}`)
    return r
  }

  private doorbellOf(id: number): SharedArrayBuffer {
    return id === 0 ? this.endpoint.doorbell.sab : this.slot(id).doorbell
  }

  private linkFor(self: number, peer: number, generation: number): PeerLink {
    return { id: peer, generation, outRing: this.ring(self, peer), inRing: this.ring(peer, self), doorbell: this.doorbellOf(peer) }
  }

  /** A new generation of node `s`: its doorbell and fresh rings to every live endpoint. */
  private allocate(s: Slot): void {
    s.generation++
    s.state = 'starting'
    s.doorbell = createDoorbell()
    const others = [0, ...this.slots.filter((o) => o !== s && (o.worker !== undefined || o.state === 'starting')).map((o) => o.id)]
    for (const o of others) {
      this.rings.set(`${s.id}>${o}`, createRing(this.opts.ringBytes))
      this.rings.set(`${o}>${s.id}`, createRing(this.opts.ringBytes))
    }
  }

  /**
   * Starts the worker of node `s` with links to the supervisor and every live node. On a
   * restart (`announce`), every live node and the supervisor install their link to it now:
   * what they send waits in the ring until the node's setup has run.
   */
  private spawn(s: Slot, announce = true): void {
    if (announce) this.allocate(s)
    const links = [this.linkFor(s.id, 0, this.endpoint.generation)]
    for (const o of this.slots) if (o !== s && o.state !== 'down' && o.state !== 'failed') links.push(this.linkFor(s.id, o.id, o.generation))
    const channel = new MessageChannel()
    const data: NodeWorkerData = {
      id: s.id, generation: s.generation, doorbell: s.doorbell, links, setupModule: this.opts.setupModule, setupData: this.opts.setupData,
      idle: this.opts.idle, localRingBytes: this.opts.ringBytes, controlPort: channel.port2, nice: this.opts.nice,
    }
    s.lastFailure = undefined
    const worker = new Worker(path.join(__dirname, 'node_worker.js'), { workerData: data, transferList: [channel.port2] })
    s.worker = worker
    s.controlPort = channel.port1
    s.control = Comlink.wrap<NodeControl>(nodeEndpoint(channel.port1 as never))
    const generation = s.generation
    s.exited = new Promise((resolve) => worker.once('exit', (code) => {
      this.onExit(s, worker, generation, code)
      resolve()
    }))
    worker.on('error', () => {}) // the exit that follows is what counts
    worker.on('message', (m: FromNode) => this.onNodeMessage(s, worker, m))
    this.endpoint.installPeer(this.linkFor(0, s.id, s.generation))
    if (announce) {
      for (const o of this.slots) {
        if (o !== s && o.worker !== undefined) this.post(o, { t: 'peer-up', link: this.linkFor(o.id, s.id, s.generation) })
      }
    }
    s.timer = this.opts.clock.setTimeout(() => {
      if (s.worker === worker && s.state === 'starting') void worker.terminate()
    }, nodeStartTimeoutMs)
  }

  private onNodeMessage(s: Slot, worker: Worker, m: FromNode): void {
    if (s.worker !== worker) return
    if (m.t === 'setup-failed') {
      s.lastFailure = `setup failed: ${m.message.split('\n')[0]}`
      this.startFailure?.(new Error(`node ${s.id} setup failed: ${m.message}`))
      return
    }
    s.timer?.cancel()
    s.timer = undefined
    s.state = 'up'
    s.upSinceMs = this.opts.clock.monotonicMs()
    s.answeredAtMs = s.upSinceMs
    s.attempts = 0
    this.scheduleHeartbeat(s, worker)
    const waiters = s.waiters
    s.waiters = []
    for (const w of waiters) w.resolve()
  }

  private post(s: Slot, m: ToNode): void {
    try {
      s.worker?.postMessage(m)
    } catch {
      // the worker is exiting; its exit handler will run
    }
  }

  private onExit(s: Slot, worker: Worker, generation: number, code: number): void {
    if (s.worker !== worker) return
    const calls = s.calls
    s.calls = new Set()
    s.overdue = new Map()
    for (const exitedFirst of calls) exitedFirst()
    s.heartbeat?.cancel()
    s.heartbeat = undefined
    const hung = s.hung !== undefined
    s.lastExit = s.hung ?? `exited with code ${code}`
    s.hung = undefined
    s.timer?.cancel()
    s.timer = undefined
    s.worker = undefined
    s.control = undefined
    s.controlPort?.close()
    s.controlPort = undefined
    const wasUp = s.state === 'up'
    if (!wasUp) s.lastFailure ??= `exited with code ${code} while starting`
    s.state = 'down'
    if (this.closing !== undefined) return // close() fails what is left with KV_CLOSED
    this.endpoint.removePeer(s.id, generation)
    for (const o of this.slots) if (o.worker !== undefined) this.post(o, { t: 'peer-down', id: s.id, generation })
    this.opts.onNodeExit?.(s.id, generation, code)
    if (this.windingDown) return
    const now = this.opts.clock.monotonicMs()
    const min = this.opts.restartBackoffMsMin ?? restartBackoffMsMin
    const max = this.opts.restartBackoffMsMax ?? restartBackoffMsMax
    // (Not after a watchdog kill: a node that hangs every time is restarted ever more slowly.)
    if (wasUp && now - s.upSinceMs >= restartStableMs && !hung) s.backoffMs = min
    const delay = s.backoffMs
    s.backoffMs = Math.min(max, s.backoffMs * 2)
    if (++s.attempts > restartAttemptsMax) {
      s.state = 'failed'
      const waiters = s.waiters
      s.waiters = []
      for (const w of waiters) w.reject(this.failedError(s))
      return
    }
    s.timer = this.opts.clock.setTimeout(() => {
      s.timer = undefined
      if (this.closing === undefined && s.worker === undefined) this.spawn(s)
    }, delay)
  }

  /**
   * Resolves when node `id` is up (now or after its restart); rejects KV_UNAVAILABLE if the
   * supervisor gave up restarting it, KV_CLOSED once the runtime is closing.
   */
  waitUp(id: number): Promise<void> {
    const s = this.slot(id)
    if (this.windingDown) return Promise.reject(new KvError('KV_CLOSED', 'the runtime is closed'))
    if (s.state === 'up') return Promise.resolve()
    if (s.state === 'failed') return Promise.reject(this.failedError(s))
    return new Promise((resolve, reject) => s.waiters.push({ resolve, reject }))
  }

  private failedError(s: Slot): KvError {
    return new KvError(
      'KV_UNAVAILABLE',
      `node ${s.id} failed to start ${restartAttemptsMax + 1} times in a row (last: ${s.lastFailure ?? 'unknown'}); it is no longer restarted: close and reopen the database to try again`,
      { node: s.id },
    )
  }

  state(id: number): SlotState {
    return this.slot(id).state
  }

  generationOf(id: number): number {
    return this.slot(id).generation
  }

  /** Why node `id`'s last worker ended (its exit code, or the watchdog's reason); undefined if none has. */
  lastExitOf(id: number): string | undefined {
    return this.slot(id).lastExit
  }

  control(id: number): Comlink.Remote<NodeControl> {
    const c = this.slot(id).control
    if (c === undefined) throw new KvError('KV_UNAVAILABLE', `node ${id} is not running`, { node: id })
    return c
  }

  /**
   * A control-plane call to node `id` (`f` on its comlink API), bounded: KV_TIMEOUT when the
   * node has not answered within `timeoutMs` (its thread is blocked, or busy for that long),
   * KV_UNAVAILABLE when it is not running or exits first. A comlink call alone never settles
   * in either case (RUNTIME.md §10). KV_CLOSED when close() ended the worker.
   *
   * A node already silent for `timeoutMs` (an earlier call, not `slow`, that passed its deadline
   * unanswered was sent that long ago, and the node has answered nothing since) is not asked
   * again: the call fails with KV_TIMEOUT, `details.sent` false. Judged, like a deadline, after
   * this thread has read its port once more.
   */
  call<T>(id: number, what: string, f: (c: Comlink.Remote<NodeControl>) => Promise<T>, timeoutMs: number, options: CallOptions = {}): Promise<T> {
    const s = this.slot(id)
    if (this.silentForMs(s) < timeoutMs) return this.send(s, what, f, timeoutMs, options)
    return new Promise<T>((resolve) => {
      // A timer, then an immediate: a poll of I/O comes between, even for a call made from an
      // I/O callback, whose own immediates run before the next poll.
      this.opts.clock.setTimeout(() => setImmediate(() => {
        const silentMs = this.silentForMs(s)
        if (silentMs < timeoutMs) return resolve(this.send(s, what, f, timeoutMs, options))
        resolve(Promise.reject(new KvError(
          'KV_TIMEOUT',
          `node ${id} has answered nothing for ${Math.round(silentMs)} ms: its thread is blocked or busy (${what} not sent)`,
          { node: id, timeoutMs, silentMs: Math.round(silentMs), sent: false },
        )))
      }), 0)
    })
  }

  /** How long the node has been silent: since the oldest overdue call sent after its last answer (0: none). */
  private silentForMs(s: Slot): number {
    let since = Infinity
    for (const sentAt of s.overdue.values()) if (sentAt >= s.answeredAtMs && sentAt < since) since = sentAt
    return since === Infinity ? 0 : this.opts.clock.monotonicMs() - since
  }

  /** `call` without the silence rule: the watchdog's heartbeat, one at a time, always goes out. */
  private send<T>(s: Slot, what: string, f: (c: Comlink.Remote<NodeControl>) => Promise<T>, timeoutMs: number, options: CallOptions = {}): Promise<T> {
    const id = s.id
    let c: Comlink.Remote<NodeControl>
    try {
      c = this.control(id)
    } catch (err) {
      return Promise.reject(err)
    }
    const { calls, overdue } = s
    const token = {}
    const sentAtMs = this.opts.clock.monotonicMs()
    return new Promise<T>((resolve, reject) => {
      // Settled once, by whichever comes first: the answer, the deadline, the worker's exit.
      let done = false
      const settle = (): void => {
        done = true
        timer.cancel()
        calls.delete(exitedFirst)
      }
      const exitedFirst = (): void => {
        settle()
        if (this.windingDown) reject(new KvError('KV_CLOSED', `the runtime closed before node ${id} answered ${what}`, { node: id }))
        else reject(new KvError('KV_UNAVAILABLE', `node ${id} exited before it answered ${what}`, { node: id }))
      }
      const timer = this.opts.clock.setTimeout(() => {
        // Judged after this turn's I/O: when this thread itself was held past the deadline (a
        // long synchronous task), the answer may be waiting in the port, read after timers.
        setImmediate(() => {
          if (done) return
          settle()
          if (options.slow !== true) overdue.set(token, sentAtMs) // until its answer, however late: the node is silent
          reject(new KvError('KV_TIMEOUT', `node ${id} did not answer ${what} within ${timeoutMs} ms: its thread is blocked or busy`, { node: id, timeoutMs, sent: true }))
        })
      }, timeoutMs)
      calls.add(exitedFirst)
      let answer: Promise<T>
      try {
        answer = f(c)
      } catch (err) {
        settle()
        return reject(err)
      }
      const answered = (): void => {
        overdue.delete(token)
        if (s.overdue === overdue) s.answeredAtMs = this.opts.clock.monotonicMs()
        settle()
      }
      answer.then(
        (v) => {
          answered()
          resolve(v)
        },
        (e: unknown) => {
          answered()
          reject(e)
        },
      )
    })
  }

  /**
   * The watchdog (§8): pings the node `heartbeatIntervalMs` after its last answer; a node that
   * has not answered within hangTimeoutMs is terminated, and restarted as after a crash.
   */
  private scheduleHeartbeat(s: Slot, worker: Worker): void {
    const hangMs = this.opts.hangTimeoutMs ?? 0
    if (hangMs <= 0 || this.windingDown) return
    s.heartbeat?.cancel()
    s.heartbeat = this.opts.clock.setTimeout(() => {
      s.heartbeat = undefined
      if (s.worker !== worker || this.windingDown) return
      this.send(s, 'a heartbeat ping', (c) => c.ping(), hangMs).then(
        () => {
          if (s.worker === worker) this.scheduleHeartbeat(s, worker)
        },
        (err: unknown) => {
          if (s.worker !== worker || this.windingDown || !isKvError(err, 'KV_TIMEOUT')) return
          s.hung = `terminated by the watchdog: no answer to a heartbeat within ${hangMs} ms`
          void worker.terminate()
        },
      )
    }, heartbeatIntervalMs)
  }

  /** Test hook: terminates node `id` as a crash would; the supervisor restarts it. */
  async kill(id: number): Promise<void> {
    const s = this.slot(id)
    const exited = s.exited
    await s.worker?.terminate()
    await exited
  }

  /** Threads still running (for tests: 0 after close). */
  threads(): number {
    return this.slots.filter((s) => s.worker !== undefined).length
  }

  /**
   * The first step of close (§9), for a caller that stops its nodes cleanly before close():
   * no node is restarted or pinged by the watchdog from now on, and waitUp fails KV_CLOSED
   * (waiting ones too). The nodes and the data plane run on.
   */
  beginClose(): void {
    if (this.windingDown) return
    this.windingDown = true
    for (const s of this.slots) {
      if (s.state !== 'starting') {
        s.timer?.cancel() // a pending restart (a starting node keeps its start deadline)
        s.timer = undefined
      }
      s.heartbeat?.cancel()
      s.heartbeat = undefined
      const waiters = s.waiters
      s.waiters = []
      for (const w of waiters) w.reject(new KvError('KV_CLOSED', 'the runtime is closed'))
    }
  }

  close(): Promise<{ requestsFailed: number; messagesUndelivered: number }> {
    this.closing ??= this.closeImpl()
    return this.closing
  }

  private async closeImpl(): Promise<{ requestsFailed: number; messagesUndelivered: number }> {
    const ep = this.endpoint
    const clock = this.opts.clock
    this.beginClose()
    ep.refuse(new KvError('KV_CLOSED', 'the runtime is closing'))
    for (const s of this.slots) s.timer?.cancel()
    const until = clock.monotonicMs() + closeDrainMs
    while ((ep.pendingRequests > 0 || ep.hasQueued) && clock.monotonicMs() < until) {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 1))
    }
    const running = this.slots.filter((s) => s.worker !== undefined)
    for (const s of running) this.post(s, { t: 'close' })
    await Promise.all(running.map(async (s) => {
      const w = s.worker
      let t: TimerHandle | undefined
      await Promise.race([s.exited, new Promise<void>((resolve) => (t = clock.setTimeout(resolve, closeTimeoutMs)))])
      t?.cancel()
      if (s.worker === w && w !== undefined) {
        await w.terminate()
        await s.exited
      }
    }))
    for (const s of this.slots) s.timer?.cancel()
    return ep.close(new KvError('KV_CLOSED', 'the runtime is closed'))
  }
}
