// The engine benchmark's jobs: each runs in its own child process (so that RSS and the bytes
// written to storage belong to one system), on a fresh directory under os.tmpdir(), and
// reports results through `emit`. Workloads follow LevelDB's db_bench (perf/README.md).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Durability } from '../../lib/storage'
import type { Result } from '../lib/report'
import { Dataset } from './data'
import { cpuSeconds, drive, ioWriteBytes, loopAsync, loopSync, opsPerCpuS, opsPerS, type DriveResult, type Timed } from './measure'
import { microBench } from './micro'
import { engineOf, openClassicLevel, openLmdb, openRingwood, type Store } from './stores'

export interface JobOptions {
  keys: number
  /** Cap, in seconds, on each read workload and on the sync-durability fill. */
  readCapS: number
  syncCapS: number
  /** Workload names to run (others that they need as setup still run, unreported). */
  only: Set<string> | undefined
  /** Called around each selected workload (the profiler hooks in here). */
  around?: (workload: string, fn: () => Promise<void>) => Promise<void>
}

export type Emit = (r: Result) => void

export const jobNames = [
  'ringwood', 'ringwood-interval', 'ringwood-put', 'ringwood-sync',
  'lmdb', 'lmdb-sync', 'classic-level', 'classic-level-sync',
] as const
export type JobName = (typeof jobNames)[number]

/** Fills: ringwood and classic-level write batches of 100 with 10 in flight; lmdb single puts, 1000 in flight. */
const inFlightOps = 1000
const batchOps = 100

class Ctx {
  readonly data: Dataset
  constructor(
    readonly o: JobOptions,
    readonly emit: Emit,
  ) {
    this.data = new Dataset(o.keys)
  }

  add(workload: string, system: string, metric: string, value: number): void {
    this.emit({ workload, system, metric, value })
  }

  wants(w: string): boolean {
    return this.o.only === undefined || this.o.only.has(w.replace(/\[.*$/, ''))
  }

  async run(workload: string, fn: () => Promise<void>): Promise<void> {
    if (this.o.around !== undefined && this.wants(workload)) await this.o.around(workload, fn)
    else await fn()
  }

  latencies(workload: string, system: string, lat: Float64Array): void {
    const s = Float64Array.from(lat).sort()
    const pick = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN
    this.add(workload, system, 'p50_us', Math.round(pick(50)))
    this.add(workload, system, 'p99_us', Math.round(pick(99)))
    this.add(workload, system, 'p999_us', Math.round(pick(99.9)))
  }
}

function freshDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ringwood-bench-${tag}-`))
}

/** Writes every key once in `order` (undefined = sequential) through the store's fill mode. */
async function fill(ctx: Ctx, s: Store, mode: 'batch' | 'put', order: Int32Array | undefined, valueBase: number, deadlineMs = Infinity, sync = false): Promise<DriveResult> {
  const d = ctx.data
  const idx = (i: number): number => (order === undefined ? i : order[i]!)
  if (mode === 'put') {
    return drive(d.n, inFlightOps, 1, (i) => s.put(d.key(idx(i)), d.value(valueBase + i)), deadlineMs)
  }
  const batch = s.batch!.bind(s)
  return drive(d.n, inFlightOps, batchOps, (from, to) => {
    const keys: Buffer[] = new Array(to - from)
    const values: Buffer[] = new Array(to - from)
    for (let i = from; i < to; i++) {
      keys[i - from] = d.key(idx(i))
      values[i - from] = d.value(valueBase + i)
    }
    return batch(keys, values, sync)
  }, deadlineMs)
}

async function fillWorkload(ctx: Ctx, workload: string, system: string, s: Store, mode: 'batch' | 'put', order: Int32Array | undefined, valueBase: number): Promise<void> {
  let r: DriveResult | undefined
  await ctx.run(workload, async () => {
    r = await fill(ctx, s, mode, order, valueBase)
  })
  if (!ctx.wants(workload)) return
  ctx.add(workload, system, 'ops_per_s', opsPerS(r!))
  ctx.add(workload, system, 'ops_per_cpu_s', opsPerCpuS(r!))
  ctx.latencies(workload, system, r!.latenciesUs)
}

type Opener = (dir: string) => Promise<Store>

/** fillseq on its own fresh database, then fillrandom + overwrite on another. Returns the loaded store. */
async function loadPhases(ctx: Ctx, tag: string, suffix: string, open: Opener, mode: 'batch' | 'put', keep: boolean): Promise<Store | undefined> {
  const d = ctx.data
  const dir = freshDir(tag)
  const rss0 = process.memoryUsage().rss
  const io0 = ioWriteBytes()
  const s = await open(dir)
  await fillWorkload(ctx, `fillrandom${suffix}`, s.system, s, mode, d.permutation(2), 0)
  if (!keep && !ctx.wants('overwrite')) return close(s)
  await fillWorkload(ctx, `overwrite${suffix}`, s.system, s, mode, d.permutation(3), d.n)
  if (ctx.wants('load')) {
    const userBytes = 2 * d.rawBytes
    const rss = process.memoryUsage().rss
    ctx.add(`load${suffix}`, s.system, 'rss_bytes', rss)
    ctx.add(`load${suffix}`, s.system, 'rss_delta_bytes', rss - rss0)
    const wa = s.writeAmplification(userBytes)
    if (wa !== undefined) ctx.add(`load${suffix}`, s.system, 'write_amplification', wa)
    ctx.add(`load${suffix}`, s.system, 'io_write_amplification', (ioWriteBytes() - io0) / userBytes)
  }
  if (!keep) return close(s)
  return s
}

/** fillseq on its own fresh database (run last in a job, so RSS after the load is clean). */
async function fillseqPhase(ctx: Ctx, tag: string, suffix: string, open: Opener, mode: 'batch' | 'put'): Promise<void> {
  if (!ctx.wants('fillseq')) return
  const s = await open(freshDir(tag))
  await fillWorkload(ctx, `fillseq${suffix}`, s.system, s, mode, undefined, 0)
  await close(s)
}

async function close(s: Store): Promise<undefined> {
  await s.close()
  fs.rmSync(s.dir, { recursive: true, force: true })
  return undefined
}

/** Full compaction, then bytes on disk and the write amplification so far. */
async function compactPhase(ctx: Ctx, s: Store): Promise<void> {
  const io0 = ioWriteBytes()
  const t0 = performance.now()
  await s.compactAll()
  const ms = performance.now() - t0
  if (!ctx.wants('compact')) return
  const userBytes = 2 * ctx.data.rawBytes
  ctx.add('compact', s.system, 'ms', Math.round(ms))
  ctx.add('compact', s.system, 'disk_bytes', s.diskBytes())
  ctx.add('compact', 'raw data', 'disk_bytes', ctx.data.rawBytes)
  const wa = s.writeAmplification(userBytes)
  if (wa !== undefined) ctx.add('compact', s.system, 'write_amplification', wa)
  ctx.add('compact', s.system, 'compaction_io_bytes', ioWriteBytes() - io0)
  const e = engineOf(s)
  if (e !== undefined) {
    const st = e.stats()
    ctx.add('compact', s.system, 'tables', st.levels.reduce((a, l) => a + l.files, 0))
  }
}

async function readPhases(ctx: Ctx, s: Store): Promise<void> {
  const d = ctx.data
  const cap = ctx.o.readCapS
  const hitIdx = d.randomIndices(d.n, 4)
  const hitKeys: Buffer[] = new Array(d.n)
  for (let i = 0; i < d.n; i++) hitKeys[i] = d.key(hitIdx[i]!)
  const missKeys: Buffer[] = new Array(d.n)
  for (let i = 0; i < d.n; i++) missKeys[i] = d.missingKey(hitIdx[i]!)
  let found = 0
  const count = (v: Buffer | undefined): void => {
    if (v !== undefined && v.length === 100) found++
  }
  const check = (w: string, ops: number, want: number): void => {
    if (found !== want) throw new Error(`${s.system} ${w}: found ${found} of ${ops} (want ${want})`)
  }

  let r: Timed = { ops: 0, seconds: 1, cpuSeconds: 1 }
  await ctx.run('readrandom', async () => {
    found = 0
    const getSync = s.getSync
    if (getSync !== undefined) r = loopSync(d.n, cap, (i) => count(getSync(hitKeys[i]!)))
    else r = await loopAsync(d.n, cap, 1, async (i) => count(await s.get(hitKeys[i]!)))
  })
  if (ctx.wants('readrandom')) {
    check('readrandom', r.ops, r.ops)
    ctx.add('readrandom', s.system, 'ops_per_s', opsPerS(r))
    ctx.add('readrandom', s.system, 'ops_per_cpu_s', opsPerCpuS(r))
    // Per-read latency on a sample (timing every read would cost as much as the read).
    const getSync = s.getSync
    const samples = Math.min(20_000, d.n)
    const lat = new Float64Array(samples)
    for (let i = 0; i < samples; i++) {
      const t = performance.now()
      if (getSync !== undefined) count(getSync(hitKeys[i]!))
      else count(await s.get(hitKeys[i]!))
      lat[i] = (performance.now() - t) * 1000
    }
    const sorted = lat.sort()
    ctx.add('readrandom', s.system, 'p50_us', Number(sorted[Math.floor(samples * 0.5)]!.toFixed(2)))
    ctx.add('readrandom', s.system, 'p99_us', Number(sorted[Math.floor(samples * 0.99)]!.toFixed(2)))
  }
  if (s.getSync !== undefined && ctx.wants('readrandom')) {
    // Cross-check of the loop above with benchmark.js (adaptive sampling, margin of error).
    const getSync = s.getSync
    let j = 0
    const b = microBench(`${s.system} getSync`, () => count(getSync(hitKeys[j++ % d.n]!)), Math.min(cap, 3))
    ctx.add('readrandom (benchmark.js)', s.system, 'ops_per_s', Math.round(b.hz))
    ctx.add('readrandom (benchmark.js)', s.system, 'rme_pct', Number(b.rme.toFixed(1)))
  }
  const getMany = s.getMany
  if (getMany !== undefined && ctx.wants('readrandom')) {
    found = 0
    r = await loopAsync(d.n, cap, 100, async (i) => {
      for (const v of await getMany(hitKeys.slice(i, i + 100))) count(v)
    })
    check('readrandom getMany', r.ops, r.ops)
    ctx.add('readrandom', `${s.system} (getMany 100)`, 'ops_per_s', opsPerS(r))
    ctx.add('readrandom', `${s.system} (getMany 100)`, 'ops_per_cpu_s', opsPerCpuS(r))
  }

  await ctx.run('readmissing', async () => {
    found = 0
    const getSync = s.getSync
    if (getSync !== undefined) r = loopSync(d.n, cap, (i) => count(getSync(missKeys[i]!)))
    else r = await loopAsync(d.n, cap, 1, async (i) => count(await s.get(missKeys[i]!)))
  })
  if (ctx.wants('readmissing')) {
    check('readmissing', r.ops, 0)
    ctx.add('readmissing', s.system, 'ops_per_s', opsPerS(r))
    ctx.add('readmissing', s.system, 'ops_per_cpu_s', opsPerCpuS(r))
  }

  let scanned = 0
  let scanS = 0
  let scanCpuS = 0
  await ctx.run('readseq', async () => {
    const c0 = cpuSeconds()
    const t0 = performance.now()
    scanned = await s.scan()
    scanS = (performance.now() - t0) / 1000
    scanCpuS = cpuSeconds() - c0
  })
  if (ctx.wants('readseq')) {
    if (scanned !== d.n) throw new Error(`${s.system} readseq: ${scanned} entries, want ${d.n}`)
    ctx.add('readseq', s.system, 'ops_per_s', Math.round(scanned / scanS))
    ctx.add('readseq', s.system, 'ops_per_cpu_s', Math.round(scanned / scanCpuS))
  }

  await ctx.run('seekrandom', async () => {
    found = 0
    const sk = s.seeker()
    const n = Math.min(d.n, 200_000)
    r = await loopAsync(n, cap, 1, async (i) => {
      const v = sk.seek(hitKeys[i]!)
      count(v instanceof Promise ? await v : v)
    })
    await sk.close()
  })
  if (ctx.wants('seekrandom')) {
    check('seekrandom', r.ops, r.ops)
    ctx.add('seekrandom', s.system, 'ops_per_s', opsPerS(r))
    ctx.add('seekrandom', s.system, 'ops_per_cpu_s', opsPerCpuS(r))
  }
}

/** Durability sync, 1000 writes in flight: acknowledged writes/s (time-capped). */
async function syncPhase(ctx: Ctx, tag: string, open: Opener, mode: 'batch' | 'put', label: string): Promise<void> {
  if (!ctx.wants('fillsync')) return
  const dir = freshDir(tag)
  const s = await open(dir)
  let r: DriveResult | undefined
  await ctx.run('fillsync', async () => {
    r = await fill(ctx, s, mode, ctx.data.permutation(2), 0, ctx.o.syncCapS * 1000, true)
  })
  ctx.add('fillsync', label, 'ops_per_s', opsPerS(r!))
  ctx.add('fillsync', label, 'ops_per_cpu_s', opsPerCpuS(r!))
  ctx.latencies('fillsync', label, r!.latenciesUs)
  await close(s)
}

export async function runJob(job: JobName, o: JobOptions, emit: Emit): Promise<void> {
  const ctx = new Ctx(o, emit)
  const rw = (durability: Durability): Opener => (dir) => openRingwood(dir, durability)
  const needsReads = ['load', 'compact', 'readrandom', 'readmissing', 'readseq', 'seekrandom'].some((w) => ctx.wants(w))
  const full = async (tag: string, open: Opener, mode: 'batch' | 'put'): Promise<void> => {
    const s = await loadPhases(ctx, tag, '', open, mode, needsReads)
    if (s !== undefined) {
      await compactPhase(ctx, s)
      await readPhases(ctx, s)
      await close(s)
    }
    await fillseqPhase(ctx, tag, '', open, mode)
  }
  switch (job) {
    case 'ringwood':
      return full('ringwood', rw('none'), 'batch')
    case 'ringwood-interval':
      await loadPhases(ctx, 'ringwood', '[interval]', rw('interval'), 'batch', false)
      return fillseqPhase(ctx, 'ringwood', '[interval]', rw('interval'), 'batch')
    case 'ringwood-put':
      if (!ctx.wants('fillrandom')) return
      for (const durability of ['none', 'interval'] as const) {
        const s = await rw(durability)(freshDir('ringwood'))
        await fillWorkload(ctx, `fillrandom[put x1000, ${durability}]`, s.system, s, 'put', ctx.data.permutation(2), 0)
        await close(s)
      }
      return
    case 'ringwood-sync':
      return syncPhase(ctx, 'ringwood', rw('sync'), 'put', 'ringwood')
    case 'lmdb':
      return full('lmdb', async (dir) => openLmdb(dir, 'nosync'), 'put')
    case 'lmdb-sync':
      return syncPhase(ctx, 'lmdb', async (dir) => openLmdb(dir, 'sync'), 'put', 'lmdb (sync commits)')
    case 'classic-level':
      return full('classic', (dir) => openClassicLevel(dir, 'nosync'), 'batch')
    case 'classic-level-sync':
      return syncPhase(ctx, 'classic', (dir) => openClassicLevel(dir, 'sync'), 'batch', 'classic-level (sync batches of 100)')
    default: {
      const never: never = job
      throw new Error(`unknown job ${String(never)}`)
    }
  }
}
