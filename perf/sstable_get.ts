// The SSTable point-lookup path (lib/storage/sstable): random gets over one fully compacted
// table of 1M 16-byte keys / 100-byte values (seqs zeroed, 4 KiB blocks, 10 bloom bits per key),
// through the mmap reader and the pread reader, against lmdb-js getSync (db.get) on the same
// data in the same process (lmdb's get returns a copy, so it is compared with "hit (copy)").
// Hits return the value view (and, as the engine does, a copy); misses are absent keys the
// bloom filter should reject. Rounds are interleaved across systems and the best is kept, in
// ops per wall-clock second and per CPU second (the latter is steadier on a loaded machine).
// Run: npm run bench:sstable   (RINGWOOD_BENCH_KEYS=n to change the key count)

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Report } from './lib/report'
import { TableBuilder } from '../lib/storage/sstable/table_builder'
import { TableReader } from '../lib/storage/sstable/table_reader'
import { openTableFile } from '../lib/storage/mmap/index'
import { Kind } from '../lib/storage/types'
import { makePrng } from '../lib/util/prng'

const keys = Number(process.env['RINGWOOD_BENCH_KEYS'] ?? 1_000_000)
const lookups = 500_000
const valueBytes = 100

function keyOf(i: number): Buffer {
  return Buffer.from(`key${String(i).padStart(13, '0')}`)
}

function valueOf(i: number): Buffer {
  const v = Buffer.alloc(valueBytes, 0x61 + (i % 26))
  v.writeUInt32LE(i, 0)
  return v
}

function buildTable(file: string): void {
  const fd = fs.openSync(file, 'w')
  const b = new TableBuilder({ blockBytes: 4096, bloomBitsPerKey: 10, zeroSeqs: true }, (c) => void fs.writeSync(fd, c))
  const t0 = performance.now()
  for (let i = 0; i < keys; i++) b.add(keyOf(i), i + 1, Kind.Put, 0, valueOf(i))
  const { size } = b.finish()
  fs.closeSync(fd)
  console.log(`built ${keys} entries, ${(size / 1e6).toFixed(1)} MB in ${(performance.now() - t0).toFixed(0)} ms`)
}

interface Case {
  workload: string
  system: string
  probes: Buffer[]
  fn: (k: Buffer) => number
  bestWall: number
  bestCpu: number
}

/**
 * Times every case once per round, rounds interleaved (so background load on a shared machine
 * hits every system alike), after one warm-up pass each; keeps each case's best round, in
 * operations per wall-clock second and per CPU second of this process.
 */
function runInterleaved(cases: Case[], rounds: number): void {
  let sink = 0
  for (const c of cases) for (const k of c.probes) sink += c.fn(k)
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      for (let i = 0; i < c.probes.length; i++) sink += c.fn(c.probes[i]!)
      const wallS = (performance.now() - t0) / 1000
      const cpu = process.cpuUsage(cpu0)
      c.bestWall = Math.max(c.bestWall, c.probes.length / wallS)
      c.bestCpu = Math.max(c.bestCpu, c.probes.length / ((cpu.user + cpu.system) / 1e6))
    }
  }
  if (sink === -1) console.log(sink)
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-bench-sst-'))
  const report = new Report('sstable_get')
  try {
    const file = path.join(dir, '000001.sst')
    buildTable(file)
    const prng = makePrng(42)
    const hits: Buffer[] = []
    const misses: Buffer[] = []
    for (let i = 0; i < lookups; i++) hits.push(keyOf(prng.int(keys)))
    for (let i = 0; i < lookups / 4; i++) misses.push(Buffer.from(`kez${String(prng.int(keys)).padStart(13, '0')}`))

    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lmdb = require('lmdb') as typeof import('lmdb')
    const db = lmdb.open({ path: path.join(dir, 'lmdb'), encoding: 'binary', keyEncoding: 'binary' })
    const t0 = performance.now()
    const batch = 100_000
    for (let s = 0; s < keys; s += batch) {
      db.transactionSync(() => {
        for (let i = s; i < Math.min(keys, s + batch); i++) db.putSync(keyOf(i), valueOf(i))
      })
    }
    console.log(`lmdb loaded in ${(performance.now() - t0).toFixed(0)} ms`)

    const tables = (['mmap', 'pread'] as const).map((reader) => ({ reader, t: TableReader.open(openTableFile(file, { reader })) }))
    const cases: Case[] = []
    const add = (workload: string, system: string, probes: Buffer[], fn: (k: Buffer) => number): void =>
      void cases.push({ workload, system, probes, fn, bestWall: 0, bestCpu: 0 })
    const max = Number.MAX_SAFE_INTEGER
    for (const { reader, t } of tables) {
      const probes = reader === 'pread' ? hits.slice(0, hits.length / 4) : hits
      add('get hit (view)', `ringwood-${reader}`, probes, (k) => t.get(k, max)!.valueEnd)
      add('get hit (copy)', `ringwood-${reader}`, probes, (k) => t.get(k, max)!.copyValue().length)
      add('get miss', `ringwood-${reader}`, misses, (k) => (t.get(k, max) === undefined ? 0 : 1))
    }
    add('get hit (copy)', 'lmdb-getSync', hits, (k) => (db.get(k) as Buffer).length)
    add('get miss', 'lmdb-getSync', misses, (k) => (db.get(k) === undefined ? 0 : 1))
    runInterleaved(cases, Number(process.env['RINGWOOD_BENCH_ROUNDS'] ?? 5))
    for (const c of cases) {
      report.add(c.workload, c.system, 'ops_per_s', Math.round(c.bestWall))
      report.add(c.workload, c.system, 'ops_per_cpu_s', Math.round(c.bestCpu))
    }
    for (const { reader, t } of tables) {
      console.log(`  ${reader}: bloom useful ${t.stats.bloomUseful} of ${t.stats.bloomChecked} checked`)
      t.close()
    }
    await db.close()
    report.printTable('ringwood-mmap')
    console.log(`\nwrote ${report.write({ keys, lookups, valueBytes })}`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

void main()
