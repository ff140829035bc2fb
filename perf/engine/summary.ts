// What the engine benchmark prints after the runs: the ratio table (ringwood's variant rows,
// e.g. "fillrandom[interval]", shown against the peers' figures for the base workload; the
// JSON holds each measured figure once) and the storage issue §5 targets, met or not.

import type { Result } from '../lib/report'

/** Results for display: each ringwood variant row also gets the peers of its base workload. */
export function ringwoodVariants(results: readonly Result[]): Result[] {
  const out = [...results]
  for (const r of results) {
    const base = /^(.*)\[.*\]$/.exec(r.workload)?.[1]
    if (base === undefined || r.system !== 'ringwood') continue
    for (const p of results) {
      if (p.workload === base && p.metric === r.metric && p.system !== 'ringwood') {
        if (!out.some((x) => x.workload === r.workload && x.system === p.system && x.metric === p.metric)) out.push({ ...p, workload: r.workload })
      }
    }
  }
  return out
}

function value(results: readonly Result[], workload: string, system: string, metric: string): number | undefined {
  return results.find((r) => r.workload === workload && r.system === system && r.metric === metric)?.value
}

export function printTargets(results: readonly Result[]): void {
  const v = (w: string, s: string, m = 'ops_per_s'): number | undefined => value(results, w, s, m)
  const line = (name: string, figure: number | undefined, goal: number, shown: string): void => {
    const met = figure === undefined || !Number.isFinite(figure) ? 'not measured' : figure >= goal ? 'MET' : 'not met'
    console.log(`  ${name.padEnd(64)} ${shown.padEnd(30)} ${met}`)
  }
  const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a / b)
  const x = (r: number | undefined): string => (r === undefined ? 'n/a' : `${r.toFixed(2)}x`)
  console.log('\ntargets (storage issue §5):')
  const rr = ratio(v('readrandom', 'ringwood'), v('readrandom', 'lmdb'))
  line('readrandom getSync after compactAll >= 1.0x lmdb getSync', rr, 1.0, x(rr))
  for (const w of ['fillrandom', 'fillrandom[interval]']) {
    const label = w === 'fillrandom' ? 'none' : 'interval'
    const l = ratio(v(w, 'ringwood'), v('fillrandom', 'lmdb'))
    const c = ratio(v(w, 'ringwood'), v('fillrandom', 'classic-level'))
    line(`fillrandom (${label}, batches of 100) >= 1.0x lmdb batched put`, l, 1.0, x(l))
    line(`fillrandom (${label}, batches of 100) >= 1.5x classic-level batches of 100`, c, 1.5, x(c))
  }
  const s = v('fillsync', 'ringwood')
  line('durability sync, 1000 in flight >= 100k acknowledged writes/s', s, 100_000, s === undefined ? 'n/a' : `${Math.round(s)} /s`)
  const disk = v('compact', 'ringwood', 'disk_bytes')
  const raw = v('compact', 'raw data', 'disk_bytes')
  const d = ratio(disk, raw)
  line('bytes on disk after compactAll <= 1.1x raw data', d === undefined ? undefined : 1.1 / d, 1.0, d === undefined ? 'n/a' : `${d.toFixed(3)}x raw`)
}
