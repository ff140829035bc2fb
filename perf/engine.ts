// `npm run bench:engine`: the storage engine against lmdb-js and classic-level (LevelDB) on
// LevelDB's db_bench workloads at 1 M keys (storage issue §5). Method: perf/README.md, "Engine
// benchmark". Results: perf/results/engine.json (perf/lib/report.ts's shape) and a ratio table.
//
//   node dist/perf/engine.js [--quick] [--only fillrandom,readrandom] [--jobs ringwood,lmdb]
//                            [--job ringwood [--profile DIR]]
//
// Each job (a system in one configuration) runs in its own child process, one after another,
// so RSS and bytes written belong to one system. `--job NAME` runs one job in this process
// (for `node --cpu-prof`); `--profile DIR` then profiles just the `--only` workloads.
// Env: BENCH_KEYS (default 1_000_000; --quick = 100_000), BENCH_READ_S (cap per read
// workload, default 5 s), BENCH_SYNC_S (cap on the durability-sync fill, default 10 s).

import { fork } from 'node:child_process'
import { Report, type Result } from './lib/report'
import { workloadProfiler } from './lib/profile'
import { jobNames, runJob, type JobName, type JobOptions } from './engine/workloads'
import { printTargets, ringwoodVariants } from './engine/summary'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

function list(name: string): string[] | undefined {
  return arg(name)?.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

function options(): JobOptions {
  const quick = process.argv.includes('--quick')
  const keys = Number(process.env['BENCH_KEYS'] ?? (quick ? 100_000 : 1_000_000))
  if (!Number.isInteger(keys) || keys < 1000) throw new Error(`BENCH_KEYS must be an integer >= 1000, got ${keys}`)
  const only = list('--only')
  return {
    keys,
    readCapS: Number(process.env['BENCH_READ_S'] ?? 5),
    syncCapS: Number(process.env['BENCH_SYNC_S'] ?? 10),
    only: only === undefined ? undefined : new Set(only),
  }
}

function asJob(name: string): JobName {
  if (!(jobNames as readonly string[]).includes(name)) throw new Error(`unknown job '${name}'; jobs: ${jobNames.join(', ')}`)
  return name as JobName
}

/** Child side: run one job, send each result to the parent. */
async function child(job: JobName): Promise<void> {
  await runJob(job, options(), (r) => process.send!(r))
}

/** Runs one job in a child process and collects its results. */
function runChild(job: JobName, report: Report): Promise<void> {
  return new Promise((resolve, reject) => {
    const argv = process.argv.slice(2).filter((a, i, all) => a !== '--child' && all[i - 1] !== '--child')
    const cp = fork(__filename, [...argv, '--child', job], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    cp.on('message', (m: Result) => report.add(m.workload, m.system, m.metric, m.value))
    cp.on('error', reject)
    cp.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`job ${job} exited with ${code ?? signal}`))))
  })
}

/** In-process run of one job, optionally CPU-profiling only the selected workloads. */
async function inline(job: JobName, report: Report): Promise<void> {
  const o = options()
  const dir = arg('--profile')
  if (dir !== undefined) o.around = await workloadProfiler(dir, job)
  await runJob(job, o, (r) => report.add(r.workload, r.system, r.metric, r.value))
}

async function main(): Promise<void> {
  const childJob = arg('--child')
  if (childJob !== undefined) return child(asJob(childJob))
  const o = options()
  const report = new Report('engine')
  const single = arg('--job')
  const jobs = single !== undefined ? [asJob(single)] : (list('--jobs')?.map(asJob) ?? [...jobNames])
  console.log(`engine: ${o.keys} keys of 16 B, values of 100 B; jobs: ${jobs.join(', ')}${o.only ? `; only: ${[...o.only].join(', ')}` : ''}`)
  const t0 = Date.now()
  for (const job of jobs) {
    console.log(`-- ${job}`)
    if (single !== undefined) await inline(job, report)
    else await runChild(job, report)
  }
  console.log(`(${((Date.now() - t0) / 1000).toFixed(0)} s)`)
  const shown = new Report('engine')
  for (const r of ringwoodVariants(report.results)) shown.results.push(r)
  shown.printTable('ringwood')
  printTargets(report.results)
  // Only a run of every job and workload replaces perf/results/engine.json.
  if (single === undefined && o.only === undefined && jobs.length === jobNames.length) {
    console.log(`wrote ${report.write({ keys: o.keys, method: 'perf/README.md#engine-benchmark' })}`)
  } else console.log('(partial run: perf/results/engine.json not written)')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
