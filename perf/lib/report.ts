// The one results shape of every Ringwood benchmark (perf/README.md), and the table that
// prints it with ratios against each peer measured in the same run.
//
//   perf/results/NAME.json = { "machine": {...}, "results": [
//     { "workload": "...", "system": "ringwood" | "<peer>", "metric": "ops_per_s" | ..., "value": n } ] }

import { writeFileSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface Result {
  workload: string
  system: string
  metric: string
  value: number
}

/** Metrics where a smaller number is better; ratios for them are printed as peer / ringwood. */
const lowerIsBetter = /(_us|_ms|bytes|amplification|rss)/

export function machineInfo(): Record<string, unknown> {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    date: new Date().toISOString(),
  }
}

export class Report {
  readonly results: Result[] = []

  constructor(readonly name: string) {}

  add(workload: string, system: string, metric: string, value: number): void {
    this.results.push({ workload, system, metric, value })
    const shown = Number.isInteger(value) ? String(value) : value.toFixed(2)
    console.log(`  ${workload.padEnd(28)} ${system.padEnd(16)} ${metric.padEnd(14)} ${shown}`)
  }

  /** Writes perf/results/NAME.json (next to the compiled or source perf folder's root). */
  write(extra: Record<string, unknown> = {}): string {
    const dir = resultsDir()
    mkdirSync(dir, { recursive: true })
    const file = path.join(dir, `${this.name}.json`)
    writeFileSync(file, JSON.stringify({ machine: machineInfo(), ...extra, results: this.results }, null, 2) + '\n')
    return file
  }

  /** Prints one row per (workload, metric) with each system's value and ringwood's ratio to it. */
  printTable(subject = 'ringwood'): void {
    const rows = new Map<string, Map<string, number>>()
    for (const r of this.results) {
      const k = `${r.workload}\u0000${r.metric}`
      let m = rows.get(k)
      if (!m) rows.set(k, (m = new Map()))
      m.set(r.system, r.value)
    }
    console.log(`\n${this.name}: ratios are ${subject} vs. peer (> 1 means ${subject} is better)`)
    console.log(`${'workload'.padEnd(28)} ${'metric'.padEnd(12)} ${subject.padStart(14)}  peers`)
    for (const [k, m] of rows) {
      const [workload, metric] = k.split('\u0000') as [string, string]
      const mine = m.get(subject)
      const peers: string[] = []
      for (const [sys, v] of m) {
        if (sys === subject) continue
        const ratio = mine === undefined ? NaN : lowerIsBetter.test(metric) ? v / mine : mine / v
        peers.push(`${sys}=${fmt(v)} (${Number.isFinite(ratio) ? ratio.toFixed(2) + 'x' : 'n/a'})`)
      }
      console.log(`${workload.padEnd(28)} ${metric.padEnd(12)} ${(mine === undefined ? '-' : fmt(mine)).padStart(14)}  ${peers.join('  ')}`)
    }
  }
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)}M`
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)}k`
  return Number.isInteger(v) ? String(v) : v.toFixed(2)
}

function resultsDir(): string {
  // Compiled files live in dist/perf/lib; results belong in the source tree's perf/results.
  const here = __dirname
  const root = here.includes(`${path.sep}dist${path.sep}`) ? here.slice(0, here.lastIndexOf(`${path.sep}dist${path.sep}`)) : path.join(here, '..', '..')
  return path.join(root, 'perf', 'results')
}

/** Percentile (0..100) of an ascending-sorted array of samples. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

/** Latency samples in microseconds → p50/p99/p999 results. */
export function addLatencies(report: Report, workload: string, system: string, samplesUs: Float64Array | number[]): void {
  const sorted = Float64Array.from(samplesUs).sort()
  report.add(workload, system, 'p50_us', percentile(sorted, 50))
  report.add(workload, system, 'p99_us', percentile(sorted, 99))
  report.add(workload, system, 'p999_us', percentile(sorted, 99.9))
}
