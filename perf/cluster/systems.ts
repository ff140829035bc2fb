// The systems of the cluster benchmark behind one small interface (perf/README.md, "Cluster
// benchmark"): ringwood's embedded cluster (open()), lru-cache in-process, lmdb-js, and Redis
// through ioredis. A read or an update returns the value synchronously where the system has a
// synchronous call (lru-cache, lmdb getSync), else a promise.

import fs from 'node:fs'
import { performance } from 'node:perf_hooks'
import { open, type Database } from '../../lib'
import { threadShares, type ThreadTimes } from '../../lib/runtime'

export type Maybe<T> = T | Promise<T>

export interface MailboxSample {
  /** ms since the workload started. */
  atMs: number
  /** Per node id: replica requests in flight from the caller (mailbox depth seen by the caller). */
  inFlight: Record<number, number>
  /** Per node id: event-loop utilization since the previous sample. */
  elu: Record<number, number>
  /** Per node id: the node endpoint's `queued` counter (messages that waited in its overflow queue). */
  queued: Record<number, number>
  /** Per node id, since the previous sample: cores the node's thread ran on, and seconds per second it waited for one (absent where unreadable). */
  cpu: Record<number, number>
  runQueueWait: Record<number, number>
  /** Gets answered from the read caches (PROTOCOL.md §9.8) since the workload started, in percent of gets. */
  cacheHitPct: number
}

export interface System {
  readonly name: string
  /** Sync systems have no notion of requests in flight: every call completes before the next. */
  readonly sync: boolean
  /** Writes keys [from, to) (one group of the load phase); may be called with `lanes` groups in flight. */
  loadGroup(keys: readonly string[], from: number, to: number, value: (i: number) => Buffer): Maybe<void>
  /** Groups of the load phase and how many are in flight. */
  readonly loadGroupSize: number
  readonly loadLanes: number
  read(key: string): Maybe<unknown>
  update(key: string, value: Buffer): Maybe<unknown>
  /** Switches to the client configuration for `inFlight` requests outstanding (Redis: auto-pipelining). */
  prepare?(inFlight: number): Promise<void>
  /** Mailbox depth and ELU of the nodes, where the system has nodes. */
  sample?(): Promise<MailboxSample | undefined>
  close(): Promise<void>
}

// ---------------------------------------------------------------- ringwood

/** `readCacheBytes` undefined: open()'s default (or BENCH_READ_CACHE_MB). */
export async function ringwoodSystem(dir: string, n: 1 | 3, readCacheBytes?: number): Promise<System> {
  const envCache = process.env['BENCH_READ_CACHE_MB']
  const db: Database = await open({
    dir,
    nodes: n,
    replicas: n,
    readQuorum: n === 1 ? 1 : 2,
    writeQuorum: n === 1 ? 1 : 2,
    durability: 'interval',
    // Blind YCSB updates without a context would pile up siblings on hot keys (32 at most,
    // then KV_TOO_MANY_SIBLINGS): last-write-wins makes an update replace the value, as in
    // every peer.
    conflict: 'lww',
    ...(process.env['BENCH_COORDINATION'] === 'actor' ? { coordination: 'actor' as const } : {}),
    // Each node's shared read cache: the job's, else BENCH_READ_CACHE_MB, else open()'s default.
    ...(readCacheBytes !== undefined ? { readCacheBytes } : envCache !== undefined ? { readCacheBytes: Number(envCache) * 1024 * 1024 } : {}),
  })
  let t0 = performance.now()
  let lastQueued: Record<number, number> = {}
  let lastTimes: Record<number, ThreadTimes> = {}
  const times = (s: Awaited<ReturnType<Database['admin']['stats']>>): typeof lastTimes =>
    Object.fromEntries(s.nodes.filter((x) => x.endpoint.threadTimes !== null).map((x) => [x.id, x.endpoint.threadTimes!]))
  let base = { gets: 0, cacheHits: 0 }
  const sys: System = {
    name: `ringwood N=${n}${readCacheBytes === undefined ? '' : ` read cache ${readCacheBytes / 1024 / 1024} MiB`}`,
    sync: false,
    loadGroupSize: 500,
    loadLanes: 2,
    async loadGroup(keys, from, to, value) {
      const entries: [string, Buffer][] = []
      for (let i = from; i < to; i++) entries.push([keys[i]!, value(i)])
      await db.setMany(entries)
    },
    read: (key) => db.get(key),
    update: (key, value) => db.set(key, value),
    async prepare() {
      // The background work left by the load or the previous workload (flushes, compactions)
      // is finished first, so that a workload is not charged with another's writes; its own
      // writes' background work runs while it is measured.
      const waitedS = await backgroundSettled(db, 60)
      if (waitedS >= 0.5) console.log(`  ${sys.name}: waited ${waitedS.toFixed(1)} s for flushes and compactions to finish`)
      // Resets the ELU windows of the nodes (each stats() call reports since the previous one).
      const s = await db.admin.stats()
      lastQueued = Object.fromEntries(s.nodes.map((x) => [x.id, x.endpoint.queued]))
      lastTimes = times(s)
      base = { gets: s.client.gets, cacheHits: s.client.cacheHits }
      t0 = performance.now()
    },
    async sample() {
      const s = await db.admin.stats()
      const gets = s.client.gets - base.gets
      const cacheHitPct = gets === 0 ? 0 : (100 * (s.client.cacheHits - base.cacheHits)) / gets
      const out: MailboxSample = { atMs: performance.now() - t0, inFlight: {}, elu: {}, queued: {}, cpu: {}, runQueueWait: {}, cacheHitPct }
      const now = times(s)
      for (const [id, t] of Object.entries(now)) {
        const was = lastTimes[Number(id)]
        const shares = was === undefined ? undefined : threadShares(was, t)
        if (shares === undefined) continue
        out.cpu[Number(id)] = shares.cpu
        out.runQueueWait[Number(id)] = shares.runQueueWait
      }
      lastTimes = now
      for (const node of s.nodes) {
        out.inFlight[node.id] = s.client.inFlight[node.id] ?? 0
        out.elu[node.id] = node.eventLoopUtilization
        out.queued[node.id] = node.endpoint.queued - (lastQueued[node.id] ?? 0)
        lastQueued[node.id] = node.endpoint.queued
      }
      return out
    },
    close: () => db.close(),
  }
  return sys
}

/**
 * Waits until no node's engine is flushing or compacting, nor holds a memtable waiting for a
 * flush, in two polls 200 ms apart (a job starts as the previous one ends), at most `maxS`
 * seconds; returns the seconds waited.
 */
async function backgroundSettled(db: Database, maxS: number): Promise<number> {
  const t0 = performance.now()
  let idlePolls = 0
  while (idlePolls < 2 && performance.now() - t0 < maxS * 1000) {
    const s = await db.admin.stats()
    const busy = s.nodes.some((n) => n.engine !== undefined && (n.engine.backgroundBusy || n.engine.immutableMemtables > 0))
    idlePolls = busy ? 0 : idlePolls + 1
    if (idlePolls < 2) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return (performance.now() - t0) / 1000
}

// ---------------------------------------------------------------- lru-cache

export function lruSystem(keys: number): System {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { LRUCache } = require('lru-cache') as { LRUCache: new (o: { max: number }) => { get(k: string): Buffer | undefined; set(k: string, v: Buffer): unknown } }
  const cache = new LRUCache({ max: keys + 1024 })
  return {
    name: 'lru-cache',
    sync: true,
    loadGroupSize: 10_000,
    loadLanes: 1,
    loadGroup(keys, from, to, value) {
      for (let i = from; i < to; i++) cache.set(keys[i]!, value(i))
    },
    read: (key) => cache.get(key),
    update: (key, value) => cache.set(key, value),
    close: async () => undefined,
  }
}

// ---------------------------------------------------------------- lmdb-js

interface LmdbDb {
  getSync?(key: string): Buffer | undefined
  get(key: string): Buffer | undefined
  put(key: string, value: Buffer): Promise<boolean>
  close(): Promise<void>
}

export function lmdbSystem(dir: string): System {
  fs.mkdirSync(dir, { recursive: true })
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lmdb = require('lmdb') as { open(o: object): LmdbDb }
  // noSync: no fsync at all (ringwood's 'interval' acknowledges before its sync, Redis here persists nothing).
  const db = lmdb.open({ path: dir, encoding: 'binary', noSync: true })
  const getSync = (db.getSync ?? db.get).bind(db)
  return {
    name: 'lmdb',
    sync: false,
    loadGroupSize: 1000,
    loadLanes: 1,
    async loadGroup(keys, from, to, value) {
      // lmdb-js commits every put issued in one event turn as one transaction.
      let last: Promise<boolean> | undefined
      for (let i = from; i < to; i++) last = db.put(keys[i]!, value(i))
      await last
    },
    read: (key) => getSync(key),
    update: (key, value) => db.put(key, value),
    close: () => db.close(),
  }
}

// ---------------------------------------------------------------- Redis through ioredis

interface IoRedis {
  getBuffer(key: string): Promise<Buffer | null>
  set(key: string, value: Buffer): Promise<unknown>
  pipeline(): { set(key: string, value: Buffer): unknown; exec(): Promise<unknown> }
  flushall(): Promise<unknown>
  quit(): Promise<unknown>
  disconnect(): void
}

export async function redisSystem(port: number): Promise<System> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Redis } = require('ioredis') as { Redis: new (o: object) => IoRedis }
  const connect = async (autoPipelining: boolean): Promise<IoRedis> => {
    const c = new Redis({ host: '127.0.0.1', port, enableAutoPipelining: autoPipelining, maxRetriesPerRequest: 1, lazyConnect: false })
    await c.getBuffer('ping-check')
    return c
  }
  // One connection without auto-pipelining for one-at-a-time; one with it for many in flight
  // (ioredis sends every command issued in one tick as one pipeline).
  const plain = await connect(false)
  const piped = await connect(true)
  let c = plain
  return {
    name: 'redis',
    sync: false,
    loadGroupSize: 1000,
    loadLanes: 2,
    async loadGroup(keys, from, to, value) {
      // Explicit pipelines of 1000 SETs, 2 in flight.
      const p = plain.pipeline()
      for (let i = from; i < to; i++) p.set(keys[i]!, value(i))
      await p.exec()
    },
    read: (key) => c.getBuffer(key),
    update: (key, value) => c.set(key, value),
    async prepare(inFlight) {
      c = inFlight > 1 ? piped : plain
    },
    async close() {
      await Promise.all([plain.quit(), piped.quit()]).catch(() => {
        plain.disconnect()
        piped.disconnect()
      })
    },
  }
}
