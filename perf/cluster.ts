// `npm run bench:cluster` (issue 4): the embedded cluster (open()) on YCSB-like workloads A
// (50 % reads / 50 % updates), B (95 / 5) and C (reads only), scrambled-zipfian keys, with 1 and
// with 1000 operations in flight, at N=1 and at N=3 (R=W=2), against lru-cache in-process,
// lmdb-js and Redis through ioredis in the same run. Method: perf/README.md, "Cluster
// benchmark". Results: perf/results/cluster.json (perf/lib/report.ts's shape) and tables.
//
//   node dist/perf/cluster.js [--quick] [--jobs ringwood-n3,redis] [--only A,B,C,"B x1000"]
//                             [--job ringwood-n3 [--profile DIR]]
//
// Each job (a system in one configuration) runs in its own child process, one after another.
// `--job NAME` runs one job in this process (for `node --cpu-prof`); `--profile DIR` then
// profiles just the `--only` workloads on the caller's thread.
// Env: BENCH_KEYS (default 1_000_000; --quick = 100_000), BENCH_RUN_S (cap per workload,
// default 8 s), BENCH_OPS (cap on operations per workload, default 2_000_000), BENCH_LOAD_S
// (cap on the load phase, default 180 s).

import { fork, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Report, type Result } from './lib/report'
import { workloadProfiler } from './lib/profile'
import { ringwoodVariants } from './engine/summary'
import { jobNames, runJob, type JobName, type JobOptions } from './cluster/workloads'
import { findRedisServer, startRedis, type RedisServer } from './cluster/redis_server'
import { printMailbox, printTable, printTargets } from './cluster/summary'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

function list(name: string): string[] | undefined {
  return arg(name)?.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

function num(envName: string, dflt: number): number {
  const v = Number(process.env[envName] ?? dflt)
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${envName} must be a positive number, got ${process.env[envName]}`)
  return v
}

function options(dir: string): JobOptions {
  const quick = process.argv.includes('--quick')
  const keys = num('BENCH_KEYS', quick ? 100_000 : 1_000_000)
  if (!Number.isInteger(keys) || keys < 1000) throw new Error(`BENCH_KEYS must be an integer >= 1000, got ${keys}`)
  const only = list('--only')
  const port = process.env['RINGWOOD_BENCH_REDIS_PORT']
  return {
    keys,
    runS: num('BENCH_RUN_S', 8),
    maxOps: Math.floor(num('BENCH_OPS', 2_000_000)),
    loadS: num('BENCH_LOAD_S', 180),
    inFlight: [1, 1000],
    only: only === undefined ? undefined : new Set(only),
    dir,
    redisPort: port === undefined ? undefined : Number(port),
  }
}

function asJob(name: string): JobName {
  if (!(jobNames as readonly string[]).includes(name)) throw new Error(`unknown job '${name}'; jobs: ${jobNames.join(', ')}`)
  return name as JobName
}

/** Child side: run one job, send each result to the parent. */
async function child(job: JobName): Promise<void> {
  await runJob(job, options(arg('--dir')!), (r) => process.send!(r))
  // Flush the IPC channel, then leave even if a library keeps a handle open.
  await new Promise<void>((resolve) => process.send!({ done: true }, () => resolve()))
  process.disconnect()
  setTimeout(() => process.exit(0), 5000).unref()
}

let current: ChildProcess | undefined

function runChild(job: JobName, dir: string, report: Report, redisPort: number | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const argv = process.argv.slice(2).filter((a, i, all) => a !== '--child' && all[i - 1] !== '--child')
    const env = { ...process.env, ...(redisPort === undefined ? {} : { RINGWOOD_BENCH_REDIS_PORT: String(redisPort) }) }
    const cp = fork(__filename, [...argv, '--child', job, '--dir', dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env })
    current = cp
    cp.on('message', (m: Result | { done: true }) => {
      if ('workload' in m) report.add(m.workload, m.system, m.metric, m.value)
    })
    cp.on('error', reject)
    cp.on('exit', (code, signal) => {
      current = undefined
      if (code === 0) resolve()
      else reject(new Error(`job ${job} exited with ${code ?? signal}`))
    })
  })
}

async function inline(job: JobName, dir: string, report: Report, redisPort: number | undefined): Promise<void> {
  const o = options(dir)
  o.redisPort = redisPort
  const pdir = arg('--profile')
  if (pdir !== undefined) o.around = await workloadProfiler(pdir, job)
  await runJob(job, o, (r) => report.add(r.workload, r.system, r.metric, r.value))
}

async function main(): Promise<void> {
  const childJob = arg('--child')
  if (childJob !== undefined) return child(asJob(childJob))
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-bench-cluster-'))
  let redis: RedisServer | undefined
  let cleaned = false
  const cleanup = async (): Promise<void> => {
    if (cleaned) return
    cleaned = true
    if (current?.pid !== undefined) {
      try {
        process.kill(current.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    if (redis !== undefined) await redis.stop().catch(() => undefined)
    fs.rmSync(root, { recursive: true, force: true })
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void cleanup().finally(() => process.exit(130))
    })
  }
  try {
    const o = options(root)
    const report = new Report('cluster')
    const single = arg('--job')
    let jobs = single !== undefined ? [asJob(single)] : (list('--jobs')?.map(asJob) ?? [...jobNames])
    let redisNote: string | undefined
    if (jobs.includes('redis')) {
      const bin = findRedisServer()
      if (bin === undefined) {
        redisNote = 'redis-server is not installed (not on PATH, /usr/bin or /usr/local/bin): Redis is SKIPPED in this run'
        console.log(redisNote)
        jobs = jobs.filter((j) => j !== 'redis')
      } else {
        redis = await startRedis(bin, path.join(root, 'redis'))
        console.log(`redis-server ${bin} on 127.0.0.1:${redis.port} (pid ${redis.pid}, --save '' --appendonly no)`)
      }
    }
    console.log(`cluster: ${o.keys} keys of 16 B, values of 100 B; workloads A/B/C x1 and x1000, <= ${o.runS} s or ${o.maxOps} ops each; jobs: ${jobs.join(', ')}${o.only ? `; only: ${[...o.only].join(', ')}` : ''}`)
    console.log(`load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`)
    const t0 = Date.now()
    for (const job of jobs) {
      console.log(`-- ${job}`)
      const dir = path.join(root, job)
      if (single !== undefined) await inline(job, dir, report, redis?.port)
      else await runChild(job, dir, report, redis?.port)
      fs.rmSync(dir, { recursive: true, force: true })
    }
    const seconds = Math.round((Date.now() - t0) / 1000)
    const loadEnd = os.loadavg()
    console.log(`(${seconds} s; load average at end: ${loadEnd.map((x) => x.toFixed(2)).join(' ')})`)
    printTable(report.results)
    const ratios = new Report('cluster')
    for (const r of ringwoodVariants(report.results)) if (/^(ops_per_s|p50_us|p99_us|p999_us)$/.test(r.metric)) ratios.results.push(r)
    ratios.printTable('ringwood')
    const targets = printTargets(report.results)
    printMailbox(report.results)
    if (redisNote !== undefined) console.log(`\n${redisNote}`)
    if (single === undefined && o.only === undefined && jobs.length === jobNames.length) {
      console.log(`wrote ${report.write({ keys: o.keys, runS: o.runS, maxOps: o.maxOps, seconds, loadAverageEnd: loadEnd, targets, method: 'perf/README.md#cluster-benchmark' })}`)
    } else console.log('(partial run: perf/results/cluster.json not written)')
  } finally {
    await cleanup()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
