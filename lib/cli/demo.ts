// `npm start` / `ringwood demo`: a short guided run of the storage engine on a temporary
// directory, printing what it does and what it measured. (The replicated cluster replaces
// this demo when `open()` lands.)

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { Engine } from '../storage'

export async function runDemo(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-demo-'))
  const n = 200_000
  try {
    console.log(`Ringwood storage engine demo, in ${dir}\n`)
    let e = await Engine.open(dir, { durability: 'interval' })
    const keys = Array.from({ length: n }, (_, i) => Buffer.from(`user:${String(i).padStart(8, '0')}`))
    const value = randomBytes(100)
    let t = performance.now()
    const pending: Promise<void>[] = []
    for (let i = 0; i < n; i += 100) {
      pending.push(e.batch(keys.slice(i, i + 100).map((key) => ({ type: 'put' as const, key, value }))))
      if (pending.length >= 10) await Promise.all(pending.splice(0))
    }
    await Promise.all(pending)
    console.log(`wrote ${n} keys (batches of 100, durability 'interval'): ${rate(n, t)}`)
    t = performance.now()
    let hits = 0
    for (let i = 0; i < n; i++) if (e.getSync(keys[(i * 7919) % n]!) !== undefined) hits++
    console.log(`read ${n} keys at random from the memtable and tables: ${rate(n, t)} (${hits} found)`)
    await e.put('session:42', 'expires soon', { ttlMs: 50 })
    await e.del(keys[5]!)
    t = performance.now()
    await e.compactAll()
    console.log(`full compaction: ${(performance.now() - t).toFixed(0)} ms`)
    const s = e.stats()
    const raw = n * (keys[0]!.length + value.length)
    console.log(`tables: ${s.levels.filter((l) => l.files > 0).map((l) => `L${l.level} ${l.files} files ${mb(l.bytes)}`).join(', ')}; raw data ${mb(raw)} (${(s.tableBytes / raw).toFixed(2)}x); reader: ${s.reader}`)
    t = performance.now()
    for (let i = 0; i < n; i++) e.getSync(keys[(i * 7919) % n]!)
    console.log(`read ${n} keys at random after compaction: ${rate(n, t)}`)
    const it = e.iterator({ gte: 'user:00000003', limit: 4 })
    const seen: string[] = []
    for (let kv = it.next(); kv; kv = it.next()) seen.push(kv.key.toString())
    it.close()
    console.log(`range from user:00000003, limit 4: ${seen.join(', ')} (user:00000005 was deleted)`)
    await new Promise((r) => setTimeout(r, 60))
    console.log(`session:42 after its 50 ms TTL: ${String(e.getSync('session:42'))}`)
    await e.put('last-write', 'kept in the commit log')
    await e.close()
    t = performance.now()
    e = await Engine.open(dir)
    console.log(`reopened in ${(performance.now() - t).toFixed(0)} ms; last-write = ${String(e.getSync('last-write'))}; replayed ${e.repairReport.replayedEntries} log entries`)
    await e.close()
    console.log('\nNext: npm test runs the test suite; npm run bench:engine compares the engine with lmdb and LevelDB.')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function rate(n: number, started: number): string {
  const s = (performance.now() - started) / 1000
  return `${Math.round(n / s).toLocaleString('en-US')} ops/s`
}

function mb(b: number): string {
  return `${(b / 1024 / 1024).toFixed(1)} MiB`
}
