// What the cluster benchmark prints after the runs: one wide table (every system's figures per
// workload), the issue 4 targets as ratios from the same run (met / not met), and the mailbox
// depth and event-loop utilization of the nodes in the 1000-in-flight runs.

import type { Result } from '../lib/report'

const columns: { label: string; system: string; suffix: string }[] = [
  { label: 'ringwood N=3', system: 'ringwood', suffix: '' },
  { label: 'ringwood N=1', system: 'ringwood', suffix: '[N=1]' },
  { label: 'N=3 big cache', system: 'ringwood', suffix: '[cache]' },
  { label: 'N=1 big cache', system: 'ringwood', suffix: '[N=1,cache]' },
  { label: 'lru-cache', system: 'lru-cache', suffix: '' },
  { label: 'lmdb', system: 'lmdb', suffix: '' },
  { label: 'redis', system: 'redis', suffix: '' },
]

const shownMetrics = ['ops_per_s', 'p50_us', 'p99_us', 'p999_us', 'get_p50_us', 'get_p99_us', 'update_p50_us', 'update_p99_us', 'misses', 'errors']

function value(results: readonly Result[], workload: string, system: string, metric: string): number | undefined {
  return results.find((r) => r.workload === workload && r.system === system && r.metric === metric)?.value
}

function fmt(v: number | undefined): string {
  if (v === undefined) return '-'
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)}M`
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)}k`
  if (Math.abs(v) >= 100 || Number.isInteger(v)) return String(Math.round(v))
  return v.toFixed(1)
}

export function printTable(results: readonly Result[]): void {
  const bases: string[] = []
  for (const r of results) {
    const base = r.workload.replace(/\[.*\]$/, '')
    if (!bases.includes(base)) bases.push(base)
  }
  const order = (w: string): number => (w === 'load' ? 0 : (w.endsWith('x1') ? 1 : 2) * 10 + w.charCodeAt(0))
  bases.sort((a, b) => order(a) - order(b))
  console.log('\ncluster: every figure (ops/s; latencies in µs, issue to completion)')
  console.log(`${'workload'.padEnd(10)} ${'metric'.padEnd(14)} ${columns.map((c) => c.label.padStart(13)).join(' ')}`)
  for (const base of bases) {
    for (const metric of base === 'load' ? ['ops_per_s', 'keys'] : shownMetrics) {
      const cells = columns.map((c) => value(results, base + c.suffix, c.system, metric))
      if (cells.every((v) => v === undefined)) continue
      console.log(`${base.padEnd(10)} ${metric.padEnd(14)} ${cells.map((v) => fmt(v).padStart(13)).join(' ')}`)
    }
  }
}

export interface TargetLine {
  target: string
  ratio: number | undefined
  met: boolean | undefined
}

export function printTargets(results: readonly Result[]): TargetLine[] {
  const v = (w: string, s: string, m = 'ops_per_s'): number | undefined => value(results, w, s, m)
  const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a / b)
  const out: TargetLine[] = []
  let config = ''
  const line = (target: string, r: number | undefined, goal: number, shown: string): void => {
    const met = r === undefined || !Number.isFinite(r) ? undefined : r >= goal
    out.push({ target: config + target, ratio: r, met })
    console.log(`  ${target.padEnd(70)} ${shown.padEnd(44)} ${met === undefined ? 'not measured' : met ? 'MET' : 'NOT MET'}`)
  }
  const x = (r: number | undefined): string => (r === undefined ? 'n/a' : `${r.toFixed(2)}x`)
  console.log('\ntargets (issue 4), ratios from this run:')
  const configs = [
    { name: 'default read cache (32 MiB per node)', n3: '', n1: '[N=1]' },
    { name: 'read cache sized to the data set (BENCH_BIG_CACHE_MB per node)', n3: '[cache]', n1: '[N=1,cache]' },
  ]
  for (const k of configs) {
    if (v(`C x1${k.n3}`, 'ringwood', 'get_p50_us') === undefined && v(`C x1000${k.n1}`, 'ringwood') === undefined) continue
    console.log(` ringwood with ${k.name}:`)
    config = `[${k.name}] `
    const b = ratio(v(`B x1000${k.n3}`, 'ringwood'), v('B x1000', 'redis'))
    line('1000 in flight, N=3 R=W=2, workload B >= 2x Redis/ioredis (auto-pipelined)', b, 2, `${x(b)} (${fmt(v(`B x1000${k.n3}`, 'ringwood'))} vs ${fmt(v('B x1000', 'redis'))} ops/s)`)
    const c = ratio(v(`C x1000${k.n1}`, 'ringwood'), v('C x1000', 'lmdb'))
    line('1000 in flight, N=1, workload C >= 1.0x lmdb getSync', c, 1, `${x(c)} (${fmt(v(`C x1000${k.n1}`, 'ringwood'))} vs ${fmt(v('C x1000', 'lmdb'))} ops/s)`)
    const rp50 = v(`C x1${k.n3}`, 'ringwood', 'get_p50_us')
    const qp50 = v('C x1', 'redis', 'get_p50_us')
    const p50 = ratio(qp50, rp50)
    line('one at a time, N=3 (workload C): get p50 <= Redis/ioredis get p50', p50, 1, `${fmt(rp50)} µs vs ${fmt(qp50)} µs (${x(p50)})`)
    const rp99 = v(`C x1${k.n3}`, 'ringwood', 'get_p99_us')
    const qp99 = v('C x1', 'redis', 'get_p99_us')
    const p99 = ratio(qp99 === undefined ? undefined : 2 * qp99, rp99)
    line('one at a time, N=3 (workload C): get p99 <= 2x Redis/ioredis get p99', p99, 1, `${fmt(rp99)} µs vs 2 x ${fmt(qp99)} µs (${x(p99)})`)
  }
  return out
}

export function printMailbox(results: readonly Result[]): void {
  const rows = results.filter((r) => r.system === 'ringwood' && /^(caller_|cache_hit_pct|node\d+_)/.test(r.metric))
  if (rows.length === 0) return
  console.log('\nringwood, 1000 in flight: per node, sampled every 500 ms from db.admin.stats()')
  console.log('  mailbox = replica requests in flight from the caller to the node (client.inFlight); elu = the node thread\'s event-loop utilization; overflow = messages queued behind a full ring')
  console.log('  cpu = cores the thread ran on; wait = seconds per second it was runnable but waited for a core (Linux schedstat)')
  const workloads = [...new Set(rows.map((r) => r.workload))]
  for (const w of workloads) {
    const get = (m: string): number | undefined => rows.find((r) => r.workload === w && r.metric === m)?.value
    const ids = [...new Set(rows.filter((r) => r.workload === w).map((r) => /^node(\d+)_/.exec(r.metric)?.[1]).filter((x): x is string => x !== undefined))]
    const parts = ids.map((id) => `node ${id}: mailbox mean ${fmt(get(`node${id}_mailbox_mean`))} max ${fmt(get(`node${id}_mailbox_max`))}, elu ${get(`node${id}_elu`)?.toFixed(2) ?? '-'}, cpu ${get(`node${id}_cpu`)?.toFixed(2) ?? '-'}, wait ${get(`node${id}_runq_wait`)?.toFixed(2) ?? '-'}, overflow ${fmt(get(`node${id}_overflow_queued`))}`)
    console.log(`  ${w.padEnd(14)} caller elu ${get('caller_elu')?.toFixed(2) ?? '-'} cpu ${get('caller_cpu')?.toFixed(2) ?? '-'} wait ${get('caller_runq_wait')?.toFixed(2) ?? '-'}, read-cache hits ${get('cache_hit_pct')?.toFixed(0) ?? '-'} % | ${parts.join(' | ')}`)
  }
}
