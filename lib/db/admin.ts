// db.admin (README "Cluster API", admin): the nodes, stopping, starting and crashing them,
// hints and their drain, stats. Control-plane calls go over comlink (runtime.control); none
// of this is on the data plane.

import { KvError } from '../errors'
import type { Runtime, EndpointStats, ThreadTimes } from '../runtime'
import { decodeObject, checkKey, liveSiblings, type NodeStats, type RequestDriver, type SuspicionTable, type DriverStats } from '../cluster'

export interface NodeInfoView {
  readonly id: number
  /** The worker thread is running. */
  readonly up: boolean
  /** Stopped by admin.stopNode (the thread runs, the node refuses requests). */
  readonly stopped: boolean
  /** 1 at first start, +1 per restart of the worker. */
  readonly generation: number
}

export interface HintsView {
  /** Hints held, by the node holding them. */
  readonly nodes: { id: number; count: number; bytes: number; byOwner: Record<number, { count: number; bytes: number }> }[]
  readonly count: number
  readonly bytes: number
}

export interface ClusterStats {
  /** The caller's thread: requests, and replica requests in flight per node (mailbox depth as seen from here). */
  readonly client: DriverStats & { endpoint: EndpointStats }
  /** Each running node: its counters, event-loop utilization since the last stats() call, engine and mailbox stats. */
  readonly nodes: (NodeStats & { endpoint: EndpointStats & { pendingRequests: number; threadNice: number | null; threadTimes: ThreadTimes | null } })[]
}

export class Admin {
  private readonly stopped = new Set<number>()

  constructor(
    private readonly rt: Runtime,
    private readonly driver: RequestDriver,
    private readonly detector: SuspicionTable,
  ) {}

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 1 || id > this.rt.nodes) throw new KvError('KV_INVALID_ARGUMENT', `no node ${id}`, { id })
  }

  nodes(): NodeInfoView[] {
    return this.rt.nodeIds().map((id) => ({ id, up: this.rt.isReady(id), stopped: this.stopped.has(id), generation: this.rt.generationOf(id) }))
  }

  /**
   * A graceful stop: the node refuses requests (writes go to fallbacks with hints) and closes
   * its engine cleanly. A node that is restarting after a crash is stopped once it is back.
   */
  async stopNode(id: number): Promise<void> {
    this.checkId(id)
    this.stopped.add(id)
    this.detector.workerExited(id)
    await this.rt.waitUp(id)
    await this.rt.control(id).call('stop')
    // A node back from a crash was announced up meanwhile, which made it healthy again.
    this.detector.workerExited(id)
  }

  /** Starts a stopped node, or waits for a crashed one to be back (the supervisor restarts it). */
  async startNode(id: number): Promise<void> {
    this.checkId(id)
    await this.rt.waitUp(id)
    await this.rt.control(id).call('start')
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
   * demos and debugging; reads each node's engine directly.
   */
  async replicaValues(key: string | Uint8Array): Promise<Record<number, Buffer[] | undefined>> {
    const k = checkKey(key)
    const out: Record<number, Buffer[] | undefined> = {}
    for (const id of this.rt.nodeIds()) {
      if (!this.rt.isReady(id)) continue
      const raw = (await this.rt.control(id).call('readLocal', k)) as Uint8Array | undefined
      out[id] = raw === undefined ? undefined : liveSiblings(decodeObject(Buffer.from(raw)), Date.now()).map((s) => s.value)
    }
    return out
  }

  async hints(): Promise<HintsView> {
    const nodes: HintsView['nodes'][number][] = []
    for (const id of this.rt.nodeIds()) {
      if (!this.rt.isReady(id)) continue
      const s = (await this.rt.control(id).call('stats')) as NodeStats
      nodes.push({ id, count: s.hints.count, bytes: s.hints.bytes, byOwner: s.hints.byOwner })
    }
    return { nodes, count: nodes.reduce((a, n) => a + n.count, 0), bytes: nodes.reduce((a, n) => a + n.bytes, 0) }
  }

  /**
   * Resolves when every hint is delivered: no running node holds one (a node that is down
   * holds its hints on disk; they count once it is back). KV_TIMEOUT after `timeoutMs`.
   */
  async drainHints(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 60_000
    const until = Date.now() + timeoutMs
    for (;;) {
      let pending = 0
      let down = 0
      for (const id of this.rt.nodeIds()) {
        if (!this.rt.isReady(id) || this.stopped.has(id)) {
          // A node that is down, restarting or stopped keeps its hints on disk: they count once it is back.
          down++
          continue
        }
        pending += (await this.rt.control(id).call('hintBytes')) as number
      }
      if (pending === 0 && down === 0) return
      if (Date.now() >= until) throw new KvError('KV_TIMEOUT', `hints not drained after ${timeoutMs} ms (${pending} bytes pending, ${down} nodes down or stopped)`, { bytes: pending, down })
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  async stats(): Promise<ClusterStats> {
    const nodes: ClusterStats['nodes'][number][] = []
    for (const id of this.rt.nodeIds()) {
      if (!this.rt.isReady(id)) continue
      const c = this.rt.control(id)
      const [s, endpoint] = await Promise.all([c.call('stats') as Promise<NodeStats>, c.stats()])
      nodes.push({ ...s, endpoint })
    }
    return { client: { ...this.driver.stats(), endpoint: { ...this.rt.endpoint.stats } }, nodes }
  }
}
