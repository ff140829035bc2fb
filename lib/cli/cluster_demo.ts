// `npm start` / `ringwood demo`: a short guided run of the embedded cluster on a temporary
// directory: opens it with its defaults, measures throughput and latency, shows where a few
// keys live, crashes a node under writes, lets it restart, drains hints and checks that
// nothing acknowledged was lost. Removes the directory at the end.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { open } from '../db'

function pct(sorted: number[], p: number): string {
  return `${(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! * 1000).toFixed(0)} µs`
}

export async function runClusterDemo(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-cluster-demo-'))
  let t = performance.now()
  const db = await open({ dir })
  try {
    const nodes = db.admin.nodes()
    console.log(`Ringwood embedded cluster in ${dir}`)
    console.log(`${nodes.length} nodes (worker threads), N=3 replicas, R=W=2, 64 partitions, durability 'interval'; opened in ${(performance.now() - t).toFixed(0)} ms\n`)

    const n = 20_000
    const keys = Array.from({ length: n }, (_, i) => `user:${String(i).padStart(6, '0')}`)
    const value = Buffer.alloc(100, 'x')
    t = performance.now()
    for (let i = 0; i < n; i += 1000) await db.setMany(keys.slice(i, i + 1000).map((k) => [k, value] as [string, Buffer]))
    console.log(`set ${n} keys, 1000 in flight:        ${rate(n, t)}`)
    t = performance.now()
    for (let i = 0; i < n; i += 1000) await db.getMany(keys.slice(i, i + 1000))
    console.log(`get ${n} keys, 1000 in flight:        ${rate(n, t)}`)
    const lat: number[] = []
    for (let i = 0; i < 2000; i++) {
      const s = performance.now()
      await db.get(keys[(i * 7919) % n]!)
      lat.push(performance.now() - s)
    }
    lat.sort((a, b) => a - b)
    console.log(`get one at a time: p50 ${pct(lat, 0.5)}, p99 ${pct(lat, 0.99)}\n`)

    console.log('where a few keys live (partition → preference list; the first healthy one coordinates writes):')
    for (const k of keys.slice(0, 4)) {
      const p = db.admin.placement(k)
      console.log(`  ${k}  partition ${String(p.partition).padStart(2)}  replicas on nodes ${p.primaries.join(', ')}  (fallbacks ${p.fallbacks.join(', ') || 'none'})`)
    }

    const victim = nodes.length
    console.log(`\ncrashing node ${victim} (worker terminated, no goodbye) while writing...`)
    const acked = new Map<string, string>()
    let failed = 0
    let stop = false
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !stop && i < 100_000; i++) {
        const k = `crash:${w}:${i}`
        try {
          await db.set(k, k)
          acked.set(k, k)
        } catch {
          failed++
        }
      }
    }
    const writers = Array.from({ length: 8 }, (_, w) => writer(w))
    await new Promise((r) => setTimeout(r, 200))
    await db.admin.crashNode(victim)
    const during = acked.size
    await db.admin.startNode(victim)
    console.log(`node ${victim} is back (restarted by the supervisor, recovered from its commit log)`)
    await new Promise((r) => setTimeout(r, 200))
    stop = true
    await Promise.all(writers)
    const hints = await db.admin.hints()
    console.log(`writes acknowledged: ${acked.size} (${during} before the restart), failed: ${failed}; hints held: ${hints.count}`)
    await db.admin.drainHints()
    let lost = 0
    const ks = [...acked.keys()]
    for (let i = 0; i < ks.length; i += 1000) {
      const got = await db.getMany(ks.slice(i, i + 1000))
      got.forEach((g, j) => {
        if (g?.value.toString() !== acked.get(ks[i + j]!)) lost++
      })
    }
    console.log(`hints drained; read back every acknowledged write with R=2: ${lost === 0 ? 'nothing lost' : `${lost} LOST`}`)
    const stats = await db.admin.stats()
    console.log(`\nper node: ${stats.nodes.map((s) => `node ${s.id}: ${s.vnode?.writes ?? 0} coordinated writes, ${s.vnode?.reads ?? 0} reads, event loop ${(s.eventLoopUtilization * 100).toFixed(0)} % busy`).join('; ')}`)
  } finally {
    await db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
  console.log('\nclosed; directory removed.')
}

function rate(n: number, t0: number): string {
  const s = (performance.now() - t0) / 1000
  return `${Math.round(n / s).toLocaleString('en-US')} ops/s (${(s * 1000).toFixed(0)} ms)`
}
