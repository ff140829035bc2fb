// One cluster node inside its worker (PROTOCOL.md §9): opens the node's engine (with its id
// file and incarnation), serves the vnodes and the coordinator actor, keeps its hints and
// replays them, and answers the control plane (stats, hints, stop, start). Failure
// suspicion for routing: node up/down events and replica timeouts (SuspicionTable).

import { performance } from 'node:perf_hooks'
import type { Transport } from '../../transport'
import type { Clock } from '../../util/clock'
import type { Engine, EngineStats } from '../../storage'
import { SuspicionTable } from '../membership/suspicion'
import { PreferenceTable } from '../ring/preference_list'
import type { ConflictPolicy } from '../versioning/conflict_policy'
import { RequestDriver, type DriverStats } from '../driver/request_driver'
import { vnodeActor, VnodeType } from '../wire/actors'
import { encodeKeyed } from '../wire/replica_wire'
import { registerCoordinator } from './coordinator_actor'
import { HintStore, type HintCounters } from './hint_store'
import { closeNode, openNode } from './node_identity'
import type { NodeSetupData } from './node_setup_data'
import { registerVnodes, type VnodeHost } from './vnode_actor'
import { VnodeStore, type VnodeCounters } from './vnode_store'
import { dataKey } from './storage_keys'
import { RowCache } from '../cache/row_cache'

export interface NodeStats {
  id: number
  stopped: boolean
  incarnation: number
  replicaId: number
  eventLoopUtilization: number
  vnode: VnodeCounters | undefined
  hints: { count: number; bytes: number; byOwner: Record<number, { count: number; bytes: number }>; counters: HintCounters | undefined }
  coordinator: DriverStats
  engine: EngineStats | undefined
}

export class ClusterNode implements VnodeHost {
  store: VnodeStore | undefined
  hints: HintStore | undefined
  dropped = 0
  private engine: Engine | undefined
  private incarnation = 0
  private replicaId = 0
  private readonly detector = new SuspicionTable()
  private readonly driver: RequestDriver
  private readonly policy: ConflictPolicy
  private elu = performance.eventLoopUtilization()
  private transition: Promise<void> = Promise.resolve()
  /** This node's shared read cache (§9.8), undefined when off. */
  private readonly cache: RowCache | undefined
  private readonly cachedPartitions: Uint8Array

  constructor(
    private readonly t: Transport,
    private readonly clock: Clock,
    private readonly d: NodeSetupData,
  ) {
    this.policy = d.conflict === 'lww' ? { kind: 'lww' } : { kind: 'siblings' }
    const sab = d.readCaches[t.self]
    this.cache = sab === undefined ? undefined : new RowCache(sab)
    const m = d.membership
    const table = new PreferenceTable(m.owners, m.nodes, d.replicas)
    // Client-driven gets read the caches of a key's first R primaries only (§9.8).
    this.cachedPartitions = new Uint8Array(m.partitions)
    for (let p = 0; p < m.partitions; p++) {
      const at = table.entry(p).primaries.indexOf(t.self)
      if (at >= 0 && at < d.readQuorum) this.cachedPartitions[p] = 1
    }
    this.driver = new RequestDriver({ transport: t, clock, detector: this.detector, policy: this.policy, replicaTimeoutMs: d.replicaTimeoutMs, tombstoneGraceMs: d.tombstoneGraceMs }, table)
    t.onNodeEvent((node, up) => {
      if (up) {
        this.detector.workerStarted(node)
        this.hints?.poke(node)
      } else {
        this.detector.workerExited(node)
      }
    })
    registerVnodes(t, m.partitions, this)
    registerCoordinator(t, clock, () => (this.store === undefined ? undefined : this.driver))
  }

  /** Opens the engine and the stores. */
  start(): Promise<void> {
    this.transition = this.transition.then(async () => {
      if (this.engine !== undefined) return
      const opened = await openNode(this.d.dir, this.t.self, this.d.durability, this.clock)
      this.engine = opened.engine
      this.incarnation = opened.incarnation
      this.replicaId = opened.replicaId
      // A predecessor's cache may hold writes this incarnation lost (§9.8): start empty.
      this.cache?.clear()
      this.store = new VnodeStore(opened.engine, this.policy, opened.replicaId, this.clock, {
        cache: this.cache,
        cachedPartitions: this.cachedPartitions,
        tombstoneGraceMs: this.d.tombstoneGraceMs,
        counterFloor: opened.counterFloor,
        saveFloorWithStores: this.d.durability === 'sync',
      })
      this.cache?.setEnabled(true)
      this.hints = HintStore.load(opened.engine, this.policy, this.clock, (n) => this.driver.healthy(n) && n !== this.t.self, this.deliver, this.d.hints)
    })
    return this.transition
  }

  /** A graceful stop: refuses requests, stops hint replay, closes the engine cleanly. */
  stop(): Promise<void> {
    this.transition = this.transition.then(async () => {
      const engine = this.engine
      if (engine === undefined) return
      this.cache?.setEnabled(false)
      this.cache?.clear()
      const counterFloor = this.store?.counterFloor ?? 0
      this.store = undefined
      this.hints?.close()
      this.hints = undefined
      this.engine = undefined
      await closeNode(engine, counterFloor)
    })
    return this.transition
  }

  /** Hint replay: a HANDOFF request to the owner's vnode. */
  private readonly deliver = (owner: number, partition: number, key: Buffer, object: Buffer, done: (ok: boolean) => void): void => {
    try {
      this.t.request(owner, vnodeActor(partition), VnodeType.HANDOFF, encodeKeyed(0, key, object), (err) => done(err === undefined), { timeoutMs: this.d.replicaTimeoutMs })
    } catch {
      queueMicrotask(() => done(false))
    }
  }

  stats(): NodeStats {
    const now = performance.eventLoopUtilization()
    const delta = performance.eventLoopUtilization(now, this.elu)
    this.elu = now
    const h = this.hints
    return {
      id: this.t.self,
      stopped: this.store === undefined,
      incarnation: this.incarnation,
      replicaId: this.replicaId,
      eventLoopUtilization: delta.utilization,
      vnode: this.store === undefined ? undefined : { ...this.store.counters },
      hints: { count: h?.count ?? 0, bytes: h?.bytes ?? 0, byOwner: h?.byOwner() ?? {}, counters: h === undefined ? undefined : { ...h.counters } },
      coordinator: this.driver.stats(),
      engine: this.engine?.stats(),
    }
  }

  /** Test and demo hook: the object this node stores for a key (§4.2 bytes), or undefined. */
  readLocal(key: Uint8Array): Uint8Array | undefined {
    const p = this.driver.preferenceTable.forKey(key).partition
    return this.engine?.getSync(dataKey(p, key))
  }

  /** Pending hint bytes (0 when drained or stopped). */
  hintBytes(): number {
    return this.hints?.bytes ?? 0
  }
}
