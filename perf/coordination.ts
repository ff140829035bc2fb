// Client-driven coordination (Dynamo §6.4: the caller's thread runs the quorum machines and
// talks to the replicas) against a coordinator actor on a replica, on the same cluster
// shape: one-at-a-time get and set latency (p50, p99) and 1000-in-flight throughput.
// The default placement (`coordination` in open()) was chosen by this measurement.
// Run: npx tsc -p . && node dist/perf/coordination.js [nodes]

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { open } from '../lib'

async function measure(coordination: 'client' | 'actor', nodes: number): Promise<Record<string, string>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-coord-'))
  const db = await open({ dir, nodes, coordination })
  try {
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`)
    await db.setMany(keys.map((k) => [k, Buffer.alloc(100, 1)] as [string, Buffer]))
    const one = async (op: (k: string) => Promise<unknown>): Promise<number[]> => {
      const lat: number[] = []
      for (let i = 0; i < 3000; i++) {
        const t = performance.now()
        await op(keys[i % keys.length]!)
        lat.push((performance.now() - t) * 1000)
      }
      return lat.sort((a, b) => a - b)
    }
    const g = await one((k) => db.get(k))
    const contexts = new Map<string, Buffer>()
    const s = await one(async (k) => {
      const c = contexts.get(k)
      contexts.set(k, (await db.set(k, 'v', c === undefined ? {} : { context: c })).context)
    })
    let t = performance.now()
    for (let r = 0; r < 5; r++) await db.getMany(keys.slice(0, 1000))
    const getTput = 5000 / ((performance.now() - t) / 1000)
    const p = (a: number[], q: number): string => a[Math.floor(a.length * q)]!.toFixed(0)
    return {
      coordination,
      'get p50 µs': p(g, 0.5), 'get p99 µs': p(g, 0.99),
      'set p50 µs': p(s, 0.5), 'set p99 µs': p(s, 0.99),
      'get 1000 in flight ops/s': getTput.toFixed(0),
    }
  } finally {
    await db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const nodes = Number(process.argv[2] ?? 3)
  const rows = [await measure('client', nodes), await measure('actor', nodes), await measure('client', nodes), await measure('actor', nodes)]
  console.table(rows)
}

void main()
