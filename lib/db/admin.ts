// db.admin (README "Cluster API", admin): the nodes, stopping, starting and crashing them,
// hints and their drain, stats. Control-plane calls go over comlink, each bounded by
// controlTimeoutMs (runtime.call): a node whose thread is blocked makes them fail with
// KV_TIMEOUT, or, for the views (stats, hints), appear in `unresponsive`. None of this is on
// the data plane.

import { KvError, isKvError } from '../errors'
import type { Runtime, EndpointStats, ThreadTimes, CallOptions } from '../runtime'
import type { AdmissionGate, AdmissionStats } from './admission'
import { decodeObject, checkKey, liveSiblings, type NodeStats, type RequestDriver, type SuspicionTable, type DriverStats } from '../cluster'

export interface NodeInfoView {
  readonly id: number
  /** The worker thread is running. */
  readonly up: boolean
  /** Stopped by admin.stopNode (the thread runs, the node refuses requests). */
  readonly stopped: boolean
  /** 1 at first start, +1 per restart of the worker. */
  readonly generation: number
  /** Why its last worker ended ('exited with code 1', or the watchdog's reason for a hung node); absent if none has. */
  readonly lastExit?: string
}

export interface HintsView {
  /** Hints held, by the node holding them. */
  readonly nodes: { id: number; count: number; bytes: number; byOwner: Record<number, { count: number; bytes: number }> }[]
  readonly count: number
  readonly bytes: number
  /** Running nodes that did not answer within controlTimeoutMs (their hints are not counted). */
  readonly unresponsive: number[]
}

export interface ClusterStats {
  /** The caller's thread: requests, and replica requests in flight per node (mailbox depth as seen from here). */
  readonly client: DriverStats & { admission: AdmissionStats; endpoint: EndpointStats }
  /** Each running node: its counters, event-loop utilization since the last stats() call, engine and mailbox stats. */
  readonly nodes: (NodeStats & { endpoint: EndpointStats & { pendingRequests: number; threadNice: number | null; threadTimes: ThreadTimes | null } })[]
  /** Running nodes that did not answer within controlTimeoutMs: a blocked or overloaded thread. */
  readonly unresponsive: number[]
}

/** drainHints gives each poll of a node at least this long (its last poll comes this long before its deadline). */
const drainPollMsMin = 100

export class Admin {
  private readonly stopped = new Set<number>()

  constructor(
    private readonly rt: Runtime,
    private readonly driver: RequestDriver,
    private readonly gate: AdmissionGate,
    private readonly detector: SuspicionTable,
    /** The deadline of each control-plane call (open's controlTimeoutMs). */
    private readonly timeoutMs: number,
  ) {}

  /** Node `id`'s setup function `name` (lib/cluster/node/setup_node.ts), within `timeoutMs` (default: controlTimeoutMs). */
  private callNode<T>(id: number, name: string, args: unknown[] = [], timeoutMs = this.timeoutMs, options?: CallOptions): Promise<T> {
    return this.rt.call(id, name, (c) => c.call(name, ...args) as Promise<T>, timeoutMs, options)
  }

  /**
   * `f` on every ready node (of `ids`) at once: the answers by node id, and the nodes that did
   * not answer in time. A node that exited meanwhile is left out; other failures reject.
   */
  private async eachReady<T>(f: (id: number) => Promise<T>, ids = this.rt.nodeIds()): Promise<{ answers: Map<number, T>; unresponsive: number[] }> {
    ids = ids.filter((id) => this.rt.isReady(id))
    const answers = new Map<number, T>()
    const unresponsive: number[] = []
    await Promise.all(ids.map(async (id) => {
      try {
        answers.set(id, await f(id))
      } catch (err) {
        if (isKvError(err, 'KV_TIMEOUT')) unresponsive.push(id)
        else if (!isKvError(err, 'KV_UNAVAILABLE')) throw err
      }
    }))
    unresponsive.sort((a, b) => a - b)
    return { answers, unresponsive }
  }

  /**
   * The node's stop or start: slow (it may flush or open its engine while it answers the rest).
   * One that timed out still runs when the node's thread answers: the error says so. One not
   * sent (the node was already silent for controlTimeoutMs) does not.
   */
  private async stopOrStart(id: number, name: 'stop' | 'start'): Promise<void> {
    const op = `${name}Node`
    try {
      await this.callNode(id, name, [], this.timeoutMs, { slow: true })
    } catch (err) {
      if (!isKvError(err, 'KV_TIMEOUT')) throw err
      if (err.details['sent'] === false) throw new KvError('KV_TIMEOUT', `${err.message}: call ${op} again once it answers`, err.details)
      throw new KvError('KV_TIMEOUT', `${err.message}; it may still take effect once the node answers, or not if the watchdog restarts the node: call ${op} again to be sure`, err.details)
    }
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 1 || id > this.rt.nodes) throw new KvError('KV_INVALID_ARGUMENT', `no node ${id}`, { id })
  }

  nodes(): NodeInfoView[] {
    return this.rt.nodeIds().map((id) => {
      const lastExit = this.rt.lastExitOf(id)
      return { id, up: this.rt.isReady(id), stopped: this.stopped.has(id), generation: this.rt.generationOf(id), ...(lastExit === undefined ? {} : { lastExit }) }
    })
  }

  /**
   * A graceful stop: the node refuses requests (writes go to fallbacks with hints) and closes
   * its engine cleanly. A node that is restarting after a crash is stopped once it is back.
   */
  async stopNode(id: number): Promise<void> {
    this.checkId(id)
    const wasStopped = this.stopped.has(id)
    const wasExited = this.detector.isExited(id)
    this.stopped.add(id)
    this.detector.workerExited(id)
    await this.rt.waitUp(id)
    try {
      await this.stopOrStart(id, 'stop')
    } catch (err) {
      // Not sent (the node is silent): nothing will stop it, so its marks go back as they were
      // (its suspicion by the data plane stays).
      if (isKvError(err, 'KV_TIMEOUT') && err.details['sent'] === false) {
        if (!wasStopped) this.stopped.delete(id)
        if (!wasExited) this.detector.clearExited(id)
      }
      throw err
    }
    // (Again: a concurrent stopNode refused meanwhile may have taken the marks back.) A node
    // back from a crash was announced up meanwhile, which made it healthy again.
    this.stopped.add(id)
    this.detector.workerExited(id)
  }

  /** Starts a stopped node, or waits for a crashed one to be back (the supervisor restarts it). */
  async startNode(id: number): Promise<void> {
    this.checkId(id)
    await this.rt.waitUp(id)
    await this.stopOrStart(id, 'start')
    this.stopped.delete(id)
    this.detector.workerStarted(id)
  }

  /** Terminates the node's worker with no goodbye; the supervisor restarts it after its backoff. */
  async crashNode(id: number): Promise<void> {
    this.checkId(id)
    this.detector.workerExited(id)
    await this.rt.kill(id)
  }

  /** Where a key lives: its partition and its preference list (primaries first, then the fallback order). */
  placement(key: string | Uint8Array): { partition: number; primaries: number[]; fallbacks: number[] } {
    const e = this.driver.preferenceTable.forKey(checkKey(key))
    return { partition: e.partition, primaries: [...e.primaries], fallbacks: [...e.fallbacks] }
  }

  /**
   * What each running node stores for a key in its vnode (hints excluded): the live sibling
   * values, [] for a tombstone or expired value, undefined when it has nothing. For tests,
   * demos and debugging; reads each node's engine directly. KV_TIMEOUT when a running node
   * does not answer within controlTimeoutMs.
   */
  async replicaValues(key: string | Uint8Array): Promise<Record<number, Buffer[] | undefined>> {
    const k = checkKey(key)
    const { answers, unresponsive } = await this.eachReady((id) => this.callNode<Uint8Array | undefined>(id, 'readLocal', [k]))
    if (unresponsive.length > 0) {
      throw new KvError('KV_TIMEOUT', `${unresponsive.length === 1 ? 'node' : 'nodes'} ${unresponsive.join(', ')} did not answer within ${this.timeoutMs} ms`, { nodes: unresponsive })
    }
    const out: Record<number, Buffer[] | undefined> = {}
    for (const [id, raw] of [...answers].sort((a, b) => a[0] - b[0])) {
      out[id] = raw === undefined ? undefined : liveSiblings(decodeObject(Buffer.from(raw)), Date.now()).map((s) => s.value)
    }
    return out
  }

  async hints(): Promise<HintsView> {
    const { answers, unresponsive } = await this.eachReady((id) => this.callNode<NodeStats>(id, 'stats'))
    const nodes = [...answers].sort((a, b) => a[0] - b[0]).map(([id, s]) => ({ id, count: s.hints.count, bytes: s.hints.bytes, byOwner: s.hints.byOwner }))
    return { nodes, count: nodes.reduce((a, n) => a + n.count, 0), bytes: nodes.reduce((a, n) => a + n.bytes, 0), unresponsive }
  }

  /**
   * Resolves when every hint is delivered: no running node holds one (a node that is down
   * holds its hints on disk; they count once it is back, as do those of a node that does not
   * answer). KV_TIMEOUT after `timeoutMs`.
   */
  async drainHints(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 60_000
    const until = Date.now() + timeoutMs
    for (;;) {
      // A node that is down, restarting or stopped keeps its hints on disk: they count once it is back.
      const running = this.rt.nodeIds().filter((id) => this.rt.isReady(id) && !this.stopped.has(id))
      const callMs = Math.max(Math.min(drainPollMsMin, this.timeoutMs), Math.min(this.timeoutMs, until - Date.now()))
      const { answers, unresponsive } = await this.eachReady((id) => this.callNode<number>(id, 'hintBytes', [], callMs), running)
      const down = this.rt.nodeIds().length - answers.size - unresponsive.length // (or exited meanwhile)
      let pending = 0
      for (const bytes of answers.values()) pending += bytes
      if (pending === 0 && down === 0 && unresponsive.length === 0) return
      // (With too little time left for another round, nodes would be judged on a deadline too short to answer.)
      if (Date.now() + drainPollMsMin >= until) {
        throw new KvError(
          'KV_TIMEOUT',
          `hints not drained after ${timeoutMs} ms (${pending} bytes pending, ${down} nodes down or stopped, ${unresponsive.length} not answering)`,
          { bytes: pending, down, unresponsive: unresponsive.length },
        )
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  async stats(): Promise<ClusterStats> {
    const { answers, unresponsive } = await this.eachReady((id) =>
      this.rt.call(id, 'stats', async (c) => {
        const [s, endpoint] = await Promise.all([c.call('stats') as Promise<NodeStats>, c.stats()])
        return { ...s, endpoint }
      }, this.timeoutMs),
    )
    const nodes = [...answers].sort((a, b) => a[0] - b[0]).map(([, s]) => s)
    return { client: { ...this.driver.stats(), admission: this.gate.stats(), endpoint: { ...this.rt.endpoint.stats } }, nodes, unresponsive }
  }
}
