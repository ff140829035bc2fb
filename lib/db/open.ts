// open(): starts the embedded cluster (README "Cluster API"): checks the options, loads or
// creates the membership, starts one node worker per node (lib/cluster/node/setup_node.ts),
// and returns a Database whose requests are coordinated on this thread by default.

import fs from 'node:fs'
import { nodeStopTimeoutMs } from '../constants'
import { KvError } from '../errors'
import { LocalTransport } from '../transport'
import { Runtime } from '../runtime'
import { systemClock } from '../util/clock'
import { PreferenceTable, RequestDriver, RowCache, SuspicionTable, createReadCache, nodeSetupModule, claimingNodes, parseMembership, type NodeSetupData } from '../cluster'
import { Admin } from './admin'
import { Database } from './database'
import { loadOrCreateMembership, membershipPath } from './membership_file'
import { resolveOpenOptions, type OpenOptions } from './open_options'
import { ActorRouter, clientRouter } from './router'
import { AdmissionGate } from './admission'

export async function open(options: OpenOptions): Promise<Database> {
  let o = resolveOpenOptions(options)
  const explicit = { nodes: options.nodes !== undefined, partitions: options.partitions !== undefined }
  const file = membershipPath(o.dir)
  if (fs.existsSync(file) && (!explicit.nodes || !explicit.partitions)) {
    // Reopen with the stored shape unless the caller named it (then it must agree).
    const stored = parseMembership(JSON.parse(fs.readFileSync(file, 'utf8')))
    o = resolveOpenOptions({ ...options, nodes: options.nodes ?? claimingNodes(stored).length, partitions: options.partitions ?? stored.partitions })
  }
  const membership = loadOrCreateMembership(o.dir, o.nodes, o.partitions, explicit)
  // One shared read cache per node (PROTOCOL.md §9.8), indexed by node id (1..nodes).
  const readCaches: (SharedArrayBuffer | undefined)[] = []
  if (o.readCacheBytes > 0) for (const n of membership.nodes) readCaches[n.id] = createReadCache(o.readCacheBytes)
  const setupData: NodeSetupData = {
    dir: o.dir,
    durability: o.durability,
    conflict: o.conflict.kind === 'lww' ? 'lww' : 'siblings',
    membership,
    replicas: o.replicas,
    readQuorum: o.readQuorum,
    replicaTimeoutMs: o.replicaTimeoutMs,
    hints: o.hints,
    tombstoneGraceMs: o.tombstoneGraceMs,
    readCaches,
  }
  const rt = await Runtime.start({ nodes: o.nodes, setupModule: nodeSetupModule, setupData, nodeNice: o.nodeNice, hangTimeoutMs: o.nodeHangTimeoutMs })
  const transport = new LocalTransport(rt.endpoint)
  const detector = new SuspicionTable()
  const caches = readCaches.map((b) => (b === undefined ? undefined : new RowCache(b)))
  transport.onNodeEvent((node, up) => {
    if (up) return detector.workerStarted(node)
    // A crashed node cannot disable its own cache; its successor clears it before enabling it.
    caches[node]?.setEnabled(false)
    detector.workerExited(node)
  })
  const table = new PreferenceTable(membership.owners, membership.nodes, o.replicas)
  const driver = new RequestDriver({ transport, clock: systemClock, detector, policy: o.conflict, replicaTimeoutMs: o.replicaTimeoutMs, readCaches: caches, tombstoneGraceMs: o.tombstoneGraceMs }, table)
  const router = o.coordination === 'actor' ? new ActorRouter(transport, driver) : clientRouter(driver)
  const gate = new AdmissionGate(router, { maxInFlight: o.maxInFlight, maxQueued: o.maxQueued }, systemClock)
  const admin = new Admin(rt, driver, gate, detector, o.controlTimeoutMs)
  const shutdown = async (): Promise<void> => {
    // Stop each running node cleanly first (engines closed with their clean marker), then the
    // threads; no node is restarted meanwhile. A node that does not answer a ping within
    // controlTimeoutMs (its thread blocked), or is already known silent that long (then it is
    // not pinged, RUNTIME.md §10), is not waited for: rt.close() terminates it, and it
    // recovers from its log at the next open. One that answers has up to nodeStopTimeoutMs to
    // finish its stop (a flush may be running) while it goes on answering pings.
    rt.beginClose()
    const stop = async (id: number): Promise<void> => {
      const ping = (): Promise<string> => rt.call(id, 'ping', (c) => c.ping(), o.controlTimeoutMs)
      await ping()
      let stopped = false
      const stopping = rt.call(id, 'stop', (c) => c.call('stop') as Promise<unknown>, nodeStopTimeoutMs, { slow: true }).finally(() => (stopped = true))
      stopping.catch(() => undefined)
      while (!stopped) {
        let tick: NodeJS.Timeout | undefined
        await Promise.race([stopping, new Promise((r) => (tick = setTimeout(r, o.controlTimeoutMs)))]).catch(() => undefined)
        clearTimeout(tick)
        if (!stopped) await ping()
      }
    }
    await Promise.all(rt.nodeIds().filter((id) => rt.isReady(id)).map((id) => stop(id).catch(() => undefined)))
    driver.close()
    await rt.close()
  }
  const defaults = { replicas: o.replicas, readQuorum: o.readQuorum, writeQuorum: o.writeQuorum, timeoutMs: o.timeoutMs }
  return new Database(router, gate, defaults, o.conflict, () => systemClock.nowMs(), admin, shutdown)
}

export { KvError }
