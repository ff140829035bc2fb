// LogWriter: group commit coalescing, durability modes, and the no-retry failure rule.

import path from 'node:path'
import t from 'tap'
import { isKvError, type KvError } from '../../../lib/errors'
import type { AppendFile } from '../../../lib/storage/fs/file_system'
import { FaultFs } from '../../../lib/storage/fs/fault_fs'
import { RealFs } from '../../../lib/storage/fs/real_fs'
import { EntryEncoder, scanRecords } from '../../../lib/storage/wal/log_format'
import { LogReader } from '../../../lib/storage/wal/log_reader'
import { LogWriter, type Durability } from '../../../lib/storage/wal/log_writer'
import { ManualClock } from '../../../lib/util/clock'
import { put, tempDir } from './wal_helpers'

/** An in-memory AppendFile that records what was appended and what was synced. */
class SpyFile implements AppendFile {
  readonly path = 'spy.log'
  data = Buffer.alloc(0)
  durable = 0
  appends = 0
  syncs = 0
  closed = false
  get size(): number {
    return this.data.length
  }
  async append(d: Uint8Array): Promise<void> {
    this.appendSync(d)
    await new Promise((r) => setImmediate(r))
  }
  appendSync(d: Uint8Array): void {
    this.appends++
    this.data = Buffer.concat([this.data, d])
  }
  async sync(): Promise<void> {
    const target = this.data.length
    await new Promise((r) => setImmediate(r))
    this.syncSync()
    this.durable = target
  }
  syncSync(): void {
    this.syncs++
    this.durable = this.data.length
  }
  async close(): Promise<void> {
    this.closed = true
  }
  closeSync(): void {
    this.closed = true
  }
}

function writeOne(w: LogWriter, seq: number, opts?: { sync?: boolean }): Promise<void> {
  return w.write(seq, [put(`key${seq}`, `value${seq}`)], opts)
}

function recordsOf(buf: Buffer): number {
  return [...scanRecords(buf)].filter((i) => i.type === 'record').length
}

t.test('group commit: 1000 writes in one tick are one record, one append, one sync', async (t) => {
  const f = new SpyFile()
  const w = new LogWriter(f, { durability: 'sync' })
  const ps: Promise<void>[] = []
  for (let s = 1; s <= 1000; s++) ps.push(writeOne(w, s))
  await Promise.all(ps)
  t.equal(f.appends, 1)
  t.equal(f.syncs, 1)
  t.equal(recordsOf(f.data), 1)
  t.equal(w.stats.groupSizeMax, 1000)
  t.equal(f.durable, f.data.length)
})

t.test('group commit: writes arriving during a flight coalesce (1000 in flight, many rounds)', async (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, '000001.log')
  const w = new LogWriter(new RealFs().openAppend(file, true), { durability: 'sync' })
  const total = 20_000
  let seq = 1
  let issued = 0
  const acked: number[] = []
  await new Promise<void>((resolve, reject) => {
    const issue = (): void => {
      if (issued >= total) return
      issued++
      const s = seq++
      writeOne(w, s).then(() => {
        acked.push(s)
        if (acked.length === total) resolve()
        else issue()
      }, reject)
    }
    for (let i = 0; i < 1000; i++) issue()
  })
  await w.close()
  t.ok(w.stats.syncs < total / 100, `${w.stats.syncs} syncs for ${total} writes`)
  t.ok(w.stats.groupSizeMax >= 500, `group size max ${w.stats.groupSizeMax}`)
  t.same(acked, [...acked].sort((a, b) => a - b), 'acknowledged in call order')
  const got = new LogReader(new RealFs(), file).readAll().flatMap((g) => g.entries.map((e) => [e.seq, e.key.toString()]))
  t.equal(got.length, total)
  t.ok(got.every(([s, k], i) => s === i + 1 && k === `key${i + 1}`), 'every write, in order, with its seq')
})

t.test('a gap in sequence numbers starts a new record in the same append', async (t) => {
  const f = new SpyFile()
  const w = new LogWriter(f, { durability: 'none' })
  const enc = new EntryEncoder()
  enc.add(1, Buffer.from('a'), 0, Buffer.from('1'))
  enc.add(1, Buffer.from('b'), 0, Buffer.from('2'))
  await Promise.all([w.append(enc.bytes(), 2, 10), w.append(enc.bytes(), 2, 12), w.append(enc.bytes(), 2, 20)])
  t.equal(f.appends, 1)
  t.equal(recordsOf(f.data), 2)
  const items = [...scanRecords(f.data)]
  t.equal(items.length, 2)
})

t.test("durability 'none': no syncs until close; per-write {sync: true} forces one", async (t) => {
  const f = new SpyFile()
  const w = new LogWriter(f, { durability: 'none' })
  await Promise.all([writeOne(w, 1), writeOne(w, 2)])
  await writeOne(w, 3)
  t.equal(f.syncs, 0)
  await writeOne(w, 4, { sync: true })
  t.equal(f.syncs, 1)
  t.equal(f.durable, f.data.length)
  await writeOne(w, 5)
  await w.close()
  t.equal(f.syncs, 2, 'close syncs')
  t.ok(f.closed)
  t.ok(isKvError(await writeOne(w, 6).catch((e: unknown) => e), 'KV_CLOSED'))
})

t.test("durability 'interval': acknowledged before the sync, synced within the interval", async (t) => {
  const f = new SpyFile()
  const clock = new ManualClock()
  const w = new LogWriter(f, { durability: 'interval', clock, syncIntervalMs: 10 })
  await writeOne(w, 1)
  await writeOne(w, 2)
  t.equal(f.syncs, 0, 'acknowledged without a sync')
  t.ok(f.durable < f.data.length)
  clock.advance(9)
  await new Promise((r) => setImmediate(r))
  t.equal(f.syncs, 0)
  clock.advance(1)
  for (let i = 0; i < 5 && f.syncs === 0; i++) await new Promise((r) => setImmediate(r))
  t.equal(f.syncs, 1, 'the interval timer synced')
  t.equal(f.durable, f.data.length)
  clock.advance(100)
  await new Promise((r) => setImmediate(r))
  t.equal(f.syncs, 1, 'no sync when nothing is unsynced')
  await w.close()
})

t.test("durability 'sync': every acknowledged write is durable when its promise resolves", async (t) => {
  const f = new SpyFile()
  const w = new LogWriter(f, { durability: 'sync' })
  const checks: Promise<void>[] = []
  for (let s = 1; s <= 300; s++) {
    checks.push(
      writeOne(w, s).then(() => {
        const durableSeqs = new LogReader({ readFile: () => f.data.subarray(0, f.durable) } as never, 'spy.log').readAll().flatMap((g) => g.entries.map((e) => e.seq))
        if (!durableSeqs.includes(s)) t.fail(`seq ${s} acknowledged before durable`)
      }),
    )
    if (s % 37 === 0) await new Promise((r) => setImmediate(r))
  }
  await Promise.all(checks)
  t.ok(f.syncs > 1 && f.syncs < 300, `${f.syncs} syncs`)
})

for (const [what, inject] of [
  ['a failed fsync', (fs: FaultFs) => fs.failNextSync()],
  ['ENOSPC on append', (fs: FaultFs) => fs.failWritesAfter(10)],
] as const) {
  t.test(`${what}: the group rejects KV_IO_ERROR and the writer refuses every later write`, async (t) => {
    const fs = new FaultFs()
    const file = path.join(tempDir(t), '000001.log')
    let reported: KvError | undefined
    const w = new LogWriter(fs.openAppend(file, true), { durability: 'sync', onFailure: (e) => (reported = e) })
    await writeOne(w, 1)
    inject(fs)
    const group = [writeOne(w, 2), writeOne(w, 3)]
    const results = await Promise.allSettled(group)
    t.ok(results.every((r) => r.status === 'rejected' && isKvError(r.reason, 'KV_IO_ERROR')), 'the whole group rejected')
    t.ok(isKvError(reported, 'KV_IO_ERROR'), 'onFailure called')
    fs.clearFaults()
    t.ok(isKvError(await writeOne(w, 4).catch((e: unknown) => e), 'KV_IO_ERROR'), 'no retry after the fault clears')
    t.ok(isKvError(await w.sync().catch((e: unknown) => e), 'KV_IO_ERROR'))
    t.ok(isKvError(await w.close().catch((e: unknown) => e), 'KV_IO_ERROR'), 'close reports the log is not durable')
    const seqs = new LogReader(fs, file).readAll().flatMap((g) => g.entries.map((e) => e.seq))
    t.same(seqs.slice(0, 1), [1], 'the acknowledged write is in the log')
  })
}

t.test("'interval': a failed background sync fails the writer", async (t) => {
  const fs = new FaultFs()
  const clock = new ManualClock()
  let reported: KvError | undefined
  const w = new LogWriter(fs.openAppend(path.join(tempDir(t), '000001.log'), true), { durability: 'interval' as Durability, clock, onFailure: (e) => (reported = e) })
  await writeOne(w, 1)
  fs.failNextSync()
  clock.advance(100)
  for (let i = 0; i < 10 && reported === undefined; i++) await new Promise((r) => setImmediate(r))
  t.ok(isKvError(reported, 'KV_IO_ERROR'))
  t.ok(isKvError(await writeOne(w, 2).catch((e: unknown) => e), 'KV_IO_ERROR'))
  await w.close().catch(() => undefined)
})
