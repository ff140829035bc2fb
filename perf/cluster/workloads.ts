// The cluster benchmark's job (one system in one child process): load every key, then the
// YCSB-like workloads A, B, C with 1 and with 1000 operations in flight (perf/README.md,
// "Cluster benchmark"). Every loop is bounded in count and in time.

import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { makePrng } from '../../lib/util/prng'
import { percentile, type Result } from '../lib/report'
import { opStream } from './zipfian'
import { lmdbSystem, lruSystem, redisSystem, ringwoodSystem, type MailboxSample, type System } from './systems'
import { threadShares, threadTimes } from '../../lib/runtime/thread'

export const jobNames = ['lru-cache', 'lmdb', 'redis', 'ringwood-n1', 'ringwood-n3', 'ringwood-n1-cache', 'ringwood-n3-cache'] as const
export type JobName = (typeof jobNames)[number]

export const workloads = [
  { name: 'A', updates: 0.5 },
  { name: 'B', updates: 0.05 },
  { name: 'C', updates: 0 },
] as const

export interface JobOptions {
  keys: number
  /** Cap per measured workload, seconds. */
  runS: number
  /** Cap on operations per measured workload. */
  maxOps: number
  /** Cap on the load phase, seconds (the workloads then use the keys loaded). */
  loadS: number
  inFlight: readonly number[]
  only?: Set<string>
  /** Temp directory the parent made for this job (removed by the parent too). */
  dir: string
  redisPort?: number
  /** Wraps one measured workload (CPU profiling). */
  around?: (workload: string, fn: () => Promise<void>) => Promise<void>
}

export const keyBytes = 16
export const valueBytes = 100

/** Key i: 'k' and 15 digits, 16 ASCII bytes. */
export function makeKeys(n: number): string[] {
  const keys = new Array<string>(n)
  for (let i = 0; i < n; i++) keys[i] = 'k' + String(i).padStart(keyBytes - 1, '0')
  return keys
}

/** Values: 100-byte windows of a 1 MiB pool of seeded random bytes. */
export function valueMaker(seed = 7): (i: number) => Buffer {
  const poolBytes = 1 << 20
  const pool = makePrng(seed).bytes(poolBytes + valueBytes)
  return (i) => {
    const off = (i * 131) % poolBytes
    return pool.subarray(off, off + valueBytes)
  }
}

async function makeSystem(job: JobName, o: JobOptions): Promise<System> {
  switch (job) {
    case 'lru-cache':
      return lruSystem(o.keys)
    case 'lmdb':
      return lmdbSystem(path.join(o.dir, 'lmdb'))
    case 'redis':
      if (o.redisPort === undefined) throw new Error('redis job without a redis-server port')
      return redisSystem(o.redisPort)
    case 'ringwood-n1':
      return ringwoodSystem(path.join(o.dir, 'ringwood-n1'), 1)
    case 'ringwood-n3':
      return ringwoodSystem(path.join(o.dir, 'ringwood-n3'), 3)
    case 'ringwood-n1-cache':
      return ringwoodSystem(path.join(o.dir, 'ringwood-n1-cache'), 1, bigCacheBytes())
    case 'ringwood-n3-cache':
      return ringwoodSystem(path.join(o.dir, 'ringwood-n3-cache'), 3, bigCacheBytes())
  }
}

/** The read cache of the `-cache` jobs, per node: BENCH_BIG_CACHE_MB (default 256 MiB, room for 1 M keys of this size). */
export function bigCacheBytes(): number {
  return Number(process.env['BENCH_BIG_CACHE_MB'] ?? 256) * 1024 * 1024
}

/**
 * JSON row naming: ringwood N=3 R=W=2 is 'ringwood' on the base workload; N=1 is the variant
 * 'W[N=1]'; the jobs with a read cache sized to the data set add 'cache' ('W[cache]', 'W[N=1,cache]').
 */
function naming(job: JobName): { system: string; workload: (w: string) => string } {
  switch (job) {
    case 'ringwood-n3':
      return { system: 'ringwood', workload: (w) => w }
    case 'ringwood-n1':
      return { system: 'ringwood', workload: (w) => `${w}[N=1]` }
    case 'ringwood-n3-cache':
      return { system: 'ringwood', workload: (w) => `${w}[cache]` }
    case 'ringwood-n1-cache':
      return { system: 'ringwood', workload: (w) => `${w}[N=1,cache]` }
    default:
      return { system: job, workload: (w) => w }
  }
}

interface Measured {
  ops: number
  seconds: number
  misses: number
  errors: number
  readUs: Float64Array
  updateUs: Float64Array
  callerElu: number
  /** The caller's thread over the workload: cores it ran on, and seconds per second it waited for one (undefined: unreadable). */
  callerCpu: number | undefined
  callerRunQueueWait: number | undefined
  samples: MailboxSample[]
}

/** Closed loop: `inFlight` lanes, each issuing its next operation when the previous one completes. */
async function measure(sys: System, keys: readonly string[], value: (i: number) => Buffer, stream: { keys: Int32Array; updates: Uint8Array }, inFlight: number, capS: number, sampleStats: boolean): Promise<Measured> {
  const n = stream.keys.length
  // Sync systems: time every 8th operation (two clock reads would be a tenth of an lmdb getSync).
  const mask = sys.sync ? 7 : 0
  const readUs = new Float64Array(n)
  const updateUs = new Float64Array(n)
  let reads = 0
  let updates = 0
  let next = 0
  let done = 0
  let misses = 0
  let errors = 0
  let stop = false
  const samples: MailboxSample[] = []
  if (sys.prepare) await sys.prepare(inFlight)
  let timer: NodeJS.Timeout | undefined
  let sampling: Promise<void> = Promise.resolve()
  if (sampleStats && sys.sample) {
    timer = setInterval(() => {
      sampling = sampling.then(async () => {
        const s = await sys.sample!()
        if (s !== undefined) samples.push(s)
      }).catch(() => undefined)
    }, 500)
  }
  const elu0 = performance.eventLoopUtilization()
  const times0 = threadTimes()
  const t0 = performance.now()
  const deadline = t0 + capS * 1000
  const wOff = Math.floor(t0) * 1000 // distinct values per workload
  const lane = async (): Promise<void> => {
    for (;;) {
      const i = next++
      if (i >= n || stop) return
      if ((i & 255) === 0 && performance.now() > deadline) {
        stop = true
        return
      }
      const k = keys[stream.keys[i]!]!
      const isUpdate = stream.updates[i] === 1
      const timed = (i & mask) === 0
      const t = timed ? performance.now() : 0
      try {
        let r = isUpdate ? sys.update(k, value(wOff + i)) : sys.read(k)
        if (r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') r = await r
        if (!isUpdate && (r === undefined || r === null)) misses++
      } catch {
        errors++
      }
      if (timed) {
        const us = (performance.now() - t) * 1000
        if (isUpdate) updateUs[updates++] = us
        else readUs[reads++] = us
      }
      done++
    }
  }
  const lanes: Promise<void>[] = []
  for (let l = 0; l < inFlight; l++) lanes.push(lane())
  await Promise.all(lanes)
  const seconds = (performance.now() - t0) / 1000
  const callerElu = performance.eventLoopUtilization(elu0).utilization
  const times1 = threadTimes()
  const caller = times0 && times1 ? threadShares(times0, times1) : undefined
  if (timer !== undefined) clearInterval(timer)
  await sampling
  return { ops: done, seconds, misses, errors, readUs: readUs.subarray(0, reads), updateUs: updateUs.subarray(0, updates), callerElu, callerCpu: caller?.cpu, callerRunQueueWait: caller?.runQueueWait, samples }
}

function latencies(emit: (r: Result) => void, w: string, s: string, prefix: string, us: Float64Array): void {
  if (us.length === 0) return
  const sorted = Float64Array.from(us).sort()
  emit({ workload: w, system: s, metric: `${prefix}p50_us`, value: round2(percentile(sorted, 50)) })
  emit({ workload: w, system: s, metric: `${prefix}p99_us`, value: round2(percentile(sorted, 99)) })
  emit({ workload: w, system: s, metric: `${prefix}p999_us`, value: round2(percentile(sorted, 99.9)) })
}

function round2(v: number): number {
  return Math.round(v * 100) / 100
}

function mean(xs: number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length
}

export async function runJob(job: JobName, o: JobOptions, emit: (r: Result) => void): Promise<void> {
  const { system, workload } = naming(job)
  const keys = makeKeys(o.keys)
  const value = valueMaker()
  fs.mkdirSync(o.dir, { recursive: true })
  const sys = await makeSystem(job, o)
  try {
    // Load phase: every key once, in order, groups in flight as the system takes them.
    let loaded = 0
    const l0 = performance.now()
    const loadDeadline = l0 + o.loadS * 1000
    const loadLane = async (): Promise<void> => {
      while (loaded < o.keys && performance.now() < loadDeadline) {
        const from = loaded
        const to = Math.min(o.keys, from + sys.loadGroupSize)
        loaded = to
        await sys.loadGroup(keys, from, to, value)
      }
    }
    await Promise.all(Array.from({ length: sys.loadLanes }, loadLane))
    const loadS = (performance.now() - l0) / 1000
    emit({ workload: workload('load'), system, metric: 'ops_per_s', value: Math.round(loaded / loadS) })
    emit({ workload: workload('load'), system, metric: 'keys', value: loaded })
    if (loaded < o.keys) console.log(`  ${sys.name}: load capped at ${o.loadS} s: ${loaded} of ${o.keys} keys; the workloads use those`)
    // Warm-up (unreported): 1 s of reads with 1000 in flight.
    await measure(sys, keys, value, opStream(Math.min(o.maxOps, 200_000), loaded, 0, 99), 1000, 1, false)
    for (const inFlight of o.inFlight) {
      for (const wl of workloads) {
        const wname = `${wl.name} x${inFlight}`
        if (o.only !== undefined && !o.only.has(wl.name) && !o.only.has(wname)) continue
        // Same seed per workload for every system: the same keys in the same order.
        const stream = opStream(o.maxOps, loaded, wl.updates, wl.name.charCodeAt(0) * 1000 + inFlight)
        let m: Measured | undefined
        const run = async (): Promise<void> => {
          m = await measure(sys, keys, value, stream, inFlight, o.runS, inFlight > 1)
        }
        if (o.around) await o.around(wname, run)
        else await run()
        const r = m!
        const w = workload(wname)
        emit({ workload: w, system, metric: 'ops_per_s', value: Math.round(r.ops / r.seconds) })
        const all = new Float64Array(r.readUs.length + r.updateUs.length)
        all.set(r.readUs)
        all.set(r.updateUs, r.readUs.length)
        latencies(emit, w, system, '', all)
        latencies(emit, w, system, 'get_', r.readUs)
        latencies(emit, w, system, 'update_', r.updateUs)
        if (r.misses > 0) emit({ workload: w, system, metric: 'misses', value: r.misses })
        if (r.errors > 0) emit({ workload: w, system, metric: 'errors', value: r.errors })
        if (r.samples.length > 0) {
          emit({ workload: w, system, metric: 'caller_elu', value: round2(r.callerElu) })
          if (r.callerCpu !== undefined) emit({ workload: w, system, metric: 'caller_cpu', value: round2(r.callerCpu) })
          if (r.callerRunQueueWait !== undefined) emit({ workload: w, system, metric: 'caller_runq_wait', value: round2(r.callerRunQueueWait) })
          emit({ workload: w, system, metric: 'cache_hit_pct', value: round2(r.samples[r.samples.length - 1]!.cacheHitPct) })
          const ids = Object.keys(r.samples[0]!.inFlight).map(Number)
          for (const id of ids) {
            const depth = r.samples.map((s) => s.inFlight[id] ?? 0)
            emit({ workload: w, system, metric: `node${id}_mailbox_mean`, value: round2(mean(depth)) })
            emit({ workload: w, system, metric: `node${id}_mailbox_max`, value: Math.max(...depth) })
            emit({ workload: w, system, metric: `node${id}_elu`, value: round2(mean(r.samples.map((s) => s.elu[id] ?? 0))) })
            emit({ workload: w, system, metric: `node${id}_overflow_queued`, value: r.samples.reduce((a, s) => a + (s.queued[id] ?? 0), 0) })
            const cpu = r.samples.filter((s) => s.cpu[id] !== undefined)
            if (cpu.length > 0) {
              emit({ workload: w, system, metric: `node${id}_cpu`, value: round2(mean(cpu.map((s) => s.cpu[id]!))) })
              emit({ workload: w, system, metric: `node${id}_runq_wait`, value: round2(mean(cpu.map((s) => s.runQueueWait[id]!))) })
            }
          }
        }
      }
    }
  } finally {
    await sys.close()
  }
}
