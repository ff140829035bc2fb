// Micro-benchmark of the write path's two in-process parts: the memtable (add, get, ordered
// view) against a skiplist baseline, and the commit log writer's group commit in 'none' and
// 'sync' durability with 1000 writes in flight. Run: node dist/perf/wal_memtable.js [--quick]
// Results go to perf/results/wal_memtable.json.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { RealFs } from '../lib/storage/fs/real_fs'
import { Memtable } from '../lib/storage/memtable'
import { Kind } from '../lib/storage/types'
import { EntryEncoder, LogWriter, type Durability } from '../lib/storage/wal'
import { makePrng } from '../lib/util/prng'
import { Report } from './lib/report'

const quick = process.argv.includes('--quick')
const keysN = quick ? 200_000 : 1_000_000
const report = new Report('wal_memtable')

function secondsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9
}

/** Baseline: a plain skiplist ordered by Buffer.compare (what the Map design replaced). */
class SkipList {
  private readonly head: { key: Buffer; value: Buffer; next: unknown[] } = { key: Buffer.alloc(0), value: Buffer.alloc(0), next: new Array(16).fill(undefined) }
  private level = 1
  private readonly prev: unknown[] = new Array(16)
  constructor(private readonly rnd: () => number) {}
  add(key: Buffer, value: Buffer): void {
    type N = { key: Buffer; value: Buffer; next: (N | undefined)[] }
    let x = this.head as N
    for (let l = this.level - 1; l >= 0; l--) {
      for (let n = x.next[l]; n !== undefined && Buffer.compare(n.key, key) < 0; n = x.next[l]) x = n
      this.prev[l] = x
    }
    let h = 1
    while (h < 16 && this.rnd() < 0.25) h++
    if (h > this.level) {
      for (let l = this.level; l < h; l++) this.prev[l] = this.head
      this.level = h
    }
    const node: N = { key, value, next: new Array(h) }
    for (let l = 0; l < h; l++) {
      const p = this.prev[l] as N
      node.next[l] = p.next[l]
      p.next[l] = node
    }
  }
  get(key: Buffer): Buffer | undefined {
    type N = { key: Buffer; value: Buffer; next: (N | undefined)[] }
    let x = this.head as N
    for (let l = this.level - 1; l >= 0; l--) {
      for (let n = x.next[l]; n !== undefined && Buffer.compare(n.key, key) < 0; n = x.next[l]) x = n
    }
    const n = x.next[0]
    return n !== undefined && n.key.equals(key) ? n.value : undefined
  }
}

function memtableBench(): void {
  const prng = makePrng(1)
  const keys: Buffer[] = []
  for (let i = 0; i < keysN; i++) keys.push(prng.bytes(16))
  const value = prng.bytes(100)
  const values: Buffer[] = keys.map(() => Buffer.from(value))
  global.gc?.()
  const heap0 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers
  const mt = new Memtable()
  let t0 = process.hrtime.bigint()
  for (let i = 0; i < keysN; i++) mt.add(keys[i]!, i + 1, Kind.Put, 0, values[i]!)
  report.add('memtable add 16B/100B', 'ringwood', 'ops_per_s', Math.round(keysN / secondsSince(t0)))
  global.gc?.()
  const heap1 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers
  if (global.gc) report.add('memtable add 16B/100B', 'ringwood', 'heap_bytes_per_entry_excl_kv', Math.round((heap1 - heap0) / keysN))
  t0 = process.hrtime.bigint()
  let hits = 0
  for (let i = 0; i < keysN; i++) if (mt.get(keys[(i * 7919) % keysN]!) !== undefined) hits++
  if (hits !== keysN) throw new Error('memtable lost keys')
  report.add('memtable get', 'ringwood', 'ops_per_s', Math.round(keysN / secondsSince(t0)))
  t0 = process.hrtime.bigint()
  const sorted = mt.sortedEntries()
  report.add('memtable sorted view (flush)', 'ringwood', 'ms', Math.round(secondsSince(t0) * 1000))
  if (sorted.length !== keysN) throw new Error('sorted view size')
  t0 = process.hrtime.bigint()
  const it = mt.iterator(false)
  let n = 0
  for (it.seekToStart(); it.valid(); it.next()) n++
  report.add('memtable full scan (cached view)', 'ringwood', 'ms', Math.round(secondsSince(t0) * 1000))
  if (n !== keysN) throw new Error('scan size')

  const sl = new SkipList(makePrng(2).next)
  t0 = process.hrtime.bigint()
  for (let i = 0; i < keysN; i++) sl.add(keys[i]!, values[i]!)
  report.add('memtable add 16B/100B', 'skiplist', 'ops_per_s', Math.round(keysN / secondsSince(t0)))
  t0 = process.hrtime.bigint()
  for (let i = 0; i < keysN; i++) sl.get(keys[(i * 7919) % keysN]!)
  report.add('memtable get', 'skiplist', 'ops_per_s', Math.round(keysN / secondsSince(t0)))
}

async function logBench(durability: Durability, writes: number, inFlight: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-walbench-'))
  try {
    const file = new RealFs().openAppend(path.join(dir, '000001.log'), true)
    const w = new LogWriter(file, { durability })
    const prng = makePrng(3)
    const keys: Buffer[] = []
    for (let i = 0; i < 4096; i++) keys.push(prng.bytes(16))
    const value = prng.bytes(100)
    const enc = new EntryEncoder()
    let seq = 1
    let issued = 0
    let done = 0
    const t0 = process.hrtime.bigint()
    await new Promise<void>((resolve, reject) => {
      const issue = (): void => {
        if (issued >= writes) return
        issued++
        enc.reset()
        enc.add(Kind.Put, keys[issued & 4095]!, 0, value)
        w.append(enc.bytes(), 1, seq++).then(() => {
          if (++done === writes) resolve()
          else issue()
        }, reject)
      }
      for (let i = 0; i < inFlight; i++) issue()
    })
    const s = secondsSince(t0)
    await w.close()
    const wl = `log writer ${durability}, ${inFlight} in flight`
    report.add(wl, 'ringwood', 'ops_per_s', Math.round(writes / s))
    report.add(wl, 'ringwood', 'syncs', w.stats.syncs)
    report.add(wl, 'ringwood', 'groups', w.stats.groups)
    report.add(wl, 'ringwood', 'groupSizeMax', w.stats.groupSizeMax)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  console.log(`wal_memtable: ${keysN} keys${global.gc ? '' : ' (run with --expose-gc for memory figures)'}`)
  memtableBench()
  await logBench('none', quick ? 200_000 : 1_000_000, 1000)
  await logBench('none', quick ? 50_000 : 200_000, 1)
  await logBench('sync', quick ? 100_000 : 300_000, 1000)
  await logBench('sync', 20_000, 1)
  console.log(`wrote ${report.write()}`)
}

void main()
