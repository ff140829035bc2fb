// The engine's public contract: writes, reads, batches, iterators, snapshots, TTL, limits,
// locking, reopen. Both SSTable readers (mmap, pread) run every test.

import t from 'tap'
import { Engine } from '../../lib/storage'
import { ManualClock } from '../../lib/util/clock'
import { keyBytesMax, valueBytesMax } from '../../lib/constants'
import { rejection, tempDir, thrown } from '../support/tmp'

const str = (b: Buffer | undefined): string | undefined => b?.toString()

for (const reader of ['mmap', 'pread'] as const) {
  t.test(`engine with the ${reader} reader`, async (t) => {
    t.test('put, get, overwrite, delete, in memtable and in tables', async (t) => {
      const dir = tempDir(t)
      const e = await Engine.open(dir, { reader, compactionInline: true })
      await e.put('a', '1')
      await e.put('b', '2')
      await e.put('a', '3')
      await e.del('b')
      await e.put('d', '5') // (a table of 2 entries, 1 a tombstone, would be garbage compacted at once)
      t.equal(str(e.getSync('a')), '3')
      t.equal(e.getSync('b'), undefined)
      t.equal(e.getSync('c'), undefined)
      await e.flush()
      t.equal(e.stats().levels[0]!.files, 1, 'the flush wrote a level-0 table')
      t.equal(str(e.getSync('a')), '3')
      t.equal(e.getSync('b'), undefined)
      await e.put('b', '4')
      await e.compactAll()
      t.equal(str(await e.get('b')), '4')
      t.equal(str(e.getSync('a')), '3')
      await e.close()
    })

    t.test('batch is atomic and validated before anything is written', async (t) => {
      const dir = tempDir(t)
      const e = await Engine.open(dir, { reader })
      await e.batch([
        { type: 'put', key: 'x', value: '1' },
        { type: 'put', key: 'y', value: '2' },
        { type: 'del', key: 'x' },
      ])
      t.equal(e.getSync('x'), undefined)
      t.equal(str(e.getSync('y')), '2')
      const seq = e.lastSequence
      const err = await rejection(e.batch([{ type: 'put', key: 'z', value: '1' }, { type: 'put', key: Buffer.alloc(keyBytesMax + 1), value: '' }]))
      t.equal(err?.code, 'KV_INVALID_ARGUMENT')
      t.equal(e.getSync('z'), undefined, 'nothing of the bad batch was written')
      t.equal(e.lastSequence, seq)
      await e.close()
    })

    t.test('limits: oversized key or value, bad types, bad options', async (t) => {
      const dir = tempDir(t)
      t.equal((await rejection(Engine.open(dir, { durabilty: 'sync' } as never)))?.code, 'KV_INVALID_ARGUMENT', 'unknown option')
      t.equal((await rejection(Engine.open(dir, { durability: 'always' } as never)))?.code, 'KV_INVALID_ARGUMENT')
      const e = await Engine.open(dir, { reader })
      t.equal((await rejection(e.put(Buffer.alloc(keyBytesMax + 1), 'v')))?.code, 'KV_INVALID_ARGUMENT')
      t.equal((await rejection(e.put('k', Buffer.alloc(valueBytesMax + 1))))?.code, 'KV_INVALID_ARGUMENT')
      t.equal((await rejection(e.put(42 as never, 'v')))?.code, 'KV_INVALID_ARGUMENT')
      t.equal((await rejection(e.put('k', 'v', { ttlMs: -5 })))?.code, 'KV_INVALID_ARGUMENT')
      t.equal(e.getSync('k'), undefined)
      await e.put(Buffer.alloc(keyBytesMax, 1), 'max key fits')
      t.equal(str(e.getSync(Buffer.alloc(keyBytesMax, 1))), 'max key fits')
      await e.close()
    })

    t.test('iterators: bounds, reverse, limit, seek; snapshot isolation', async (t) => {
      const dir = tempDir(t)
      const e = await Engine.open(dir, { reader, compactionInline: true })
      for (let i = 0; i < 50; i++) await e.put(`k${String(i).padStart(2, '0')}`, `v${i}`)
      await e.flush()
      for (let i = 0; i < 50; i += 2) await e.del(`k${String(i).padStart(2, '0')}`)
      const keys = (o: object): string[] => {
        const it = e.iterator(o)
        const out: string[] = []
        for (let kv = it.next(); kv; kv = it.next()) out.push(kv.key.toString())
        it.close()
        return out
      }
      t.same(keys({ gte: 'k10', lt: 'k16' }), ['k11', 'k13', 'k15'])
      t.same(keys({ gt: 'k11', lte: 'k15' }), ['k13', 'k15'])
      t.same(keys({ reverse: true, limit: 3 }), ['k49', 'k47', 'k45'])
      t.same(keys({ reverse: true, lt: 'k10', gte: 'k05' }), ['k09', 'k07', 'k05'])
      t.equal(keys({}).length, 25)
      const it = e.iterator({ snapshot: undefined })
      await e.put('k00', 'new after the iterator began')
      const first = it.next()
      t.equal(first?.key.toString(), 'k01', 'an iterator reads the state at its start')
      it.seek(Buffer.from('k40'))
      t.equal(it.next()?.key.toString(), 'k41')
      it.close()
      const snap = e.snapshot()
      await e.put('k01', 'changed')
      await e.del('k03')
      await e.flush()
      t.equal(str(e.getSync('k01', { snapshot: snap })), 'v1', 'a snapshot read sees the old value')
      t.equal(str(e.getSync('k03', { snapshot: snap })), 'v3')
      await e.compactAll()
      t.equal(str(e.getSync('k03', { snapshot: snap })), 'v3', 'compaction keeps what a snapshot needs')
      t.equal(e.getSync('k03'), undefined)
      snap.release()
      t.equal(thrown(() => e.getSync('k01', { snapshot: snap }))?.code, 'KV_INVALID_ARGUMENT', 'a released snapshot is refused')
      await e.close()
    })

    t.test('TTL: expired entries are invisible at once and dropped by compaction', async (t) => {
      const dir = tempDir(t)
      const clock = new ManualClock()
      const e = await Engine.open(dir, { reader, clock, compactionInline: true })
      await e.put('old', 'before')
      await e.flush()
      await e.compactAll()
      await e.put('old', 'short-lived', { ttlMs: 1000 })
      await e.put('keep', 'x', { ttlMs: 100_000 })
      t.equal(str(e.getSync('old')), 'short-lived')
      clock.advance(1001)
      t.equal(e.getSync('old'), undefined, 'expired: invisible, and the older value stays hidden')
      await e.flush()
      t.equal(e.getSync('old'), undefined)
      await e.compactAll()
      t.equal(e.getSync('old'), undefined, 'after compaction')
      t.equal(str(e.getSync('keep')), 'x')
      const it = e.iterator()
      t.equal(it.next()?.key.toString(), 'keep')
      t.equal(it.next(), undefined)
      it.close()
      await e.close()
    })

    t.test('TTL as an absolute time: expiresAtMs, past or future', async (t) => {
      const dir = tempDir(t)
      const clock = new ManualClock()
      const e = await Engine.open(dir, { reader, clock, compactionInline: true })
      await e.put('past', 'v', { expiresAtMs: clock.nowMs() - 1 })
      await e.put('soon', 'v', { expiresAtMs: clock.nowMs() + 10 })
      t.equal(e.getSync('past'), undefined, 'a past time: invisible at once')
      t.equal(str(e.getSync('soon')), 'v')
      clock.advance(10)
      t.equal(e.getSync('soon'), undefined, 'invisible from that time on')
      await e.compactAll()
      t.same(e.stats().tableBytes, 0, 'both dropped by compaction')
      t.equal((await rejection(e.put('k', 'v', { ttlMs: 5, expiresAtMs: clock.nowMs() + 5 })))?.code, 'KV_INVALID_ARGUMENT', 'not both')
      t.equal((await rejection(e.put('k', 'v', { expiresAtMs: 0 })))?.code, 'KV_INVALID_ARGUMENT')
      t.equal((await rejection(e.put('k', 'v', { expiresAtMs: 1.5 })))?.code, 'KV_INVALID_ARGUMENT')
      await e.close()
    })

    t.test('a second open of the same directory fails with KV_LOCKED; close releases it', async (t) => {
      const dir = tempDir(t)
      const e = await Engine.open(dir, { reader })
      t.equal((await rejection(Engine.open(dir, { reader })))?.code, 'KV_LOCKED')
      await e.close()
      const again = await Engine.open(dir, { reader })
      await again.close()
      t.equal((await rejection(again.put('a', 'b')))?.code, 'KV_CLOSED')
      t.equal(thrown(() => again.getSync('a'))?.code, 'KV_CLOSED')
    })

    t.test('reopen: log replay, tables, sequence numbers continue', async (t) => {
      const dir = tempDir(t)
      let e = await Engine.open(dir, { reader, memtableBytes: 64 * 1024 })
      for (let i = 0; i < 3000; i++) await e.put(`key${i}`, `value${i}`.repeat(5))
      const seq = e.lastSequence
      await e.close()
      e = await Engine.open(dir, { reader })
      t.equal(e.lastSequence, seq)
      for (let i = 0; i < 3000; i += 97) t.equal(str(e.getSync(`key${i}`)), `value${i}`.repeat(5))
      await e.put('after', 'reopen')
      t.equal(e.lastSequence, seq + 1)
      const st = e.stats()
      t.ok(st.levels.some((l) => l.files > 0), 'tables were written')
      await e.close()
    })

    t.test('sync writes and approximate sizes', async (t) => {
      const dir = tempDir(t)
      const e = await Engine.open(dir, { reader, durability: 'none', compactionInline: true })
      await Promise.all(Array.from({ length: 200 }, (_, i) => e.put(`s${String(i).padStart(3, '0')}`, Buffer.alloc(1000, i), { sync: true })))
      await e.compactAll()
      const all = e.approximateSize('s', 't')
      const half = e.approximateSize('s000', 's100')
      t.ok(all > 150_000 && all < 300_000, `approximate size of all: ${all}`)
      t.ok(half > all / 4 && half < (all * 3) / 4, `about half: ${half} of ${all}`)
      await e.close()
    })
  })
}

t.test('writes stall while flushes cannot keep up, and all of them land', async (t) => {
  const dir = tempDir(t)
  const e = await Engine.open(dir, { memtableBytes: 64 * 1024, durability: 'none' })
  const value = Buffer.alloc(200, 7)
  await Promise.all(Array.from({ length: 5000 }, (_, i) => e.put(`burst${String(i).padStart(5, '0')}`, value)))
  const s = e.stats()
  t.ok(s.writeStalls > 0, `writes waited for flushes (${s.writeStalls} stalls, ${s.flushes} flushes)`)
  for (let i = 0; i < 5000; i += 250) t.same(e.getSync(`burst${String(i).padStart(5, '0')}`), value)
  await e.close()
})

t.test('stats: backgroundBusy while a flush or a full compaction runs, false when idle', async (t) => {
  const dir = tempDir(t)
  const e = await Engine.open(dir, { durability: 'none' })
  t.equal(e.stats().backgroundBusy, false, 'idle after open')
  await e.put('a', '1')
  const flushed = e.flush()
  t.equal(e.stats().backgroundBusy, true, 'a flush runs')
  await flushed
  t.equal(e.stats().backgroundBusy, false, 'idle after the flush')
  await e.put('b', '2')
  await e.flush()
  let done = false
  const compacted = e.compactAll().then(() => (done = true))
  let sawBusy = false
  while (!done) {
    sawBusy ||= e.stats().backgroundBusy
    await new Promise((resolve) => setImmediate(resolve))
  }
  await compacted
  t.ok(sawBusy, 'busy during compactAll')
  t.equal(e.stats().backgroundBusy, false, 'idle after compactAll')
  await e.close()
})

t.test('garbage compaction: a cold table loses its expired entries with no write to wake the engine', async (t) => {
  const dir = tempDir(t)
  const clock = new ManualClock()
  const e = await Engine.open(dir, { clock, compactionInline: true, durability: 'none' })
  const idle = async (): Promise<void> => {
    while (e.stats().backgroundBusy) await new Promise((resolve) => setImmediate(resolve))
  }
  const value = Buffer.alloc(100, 1)
  const key = (i: number): string => `k${String(i).padStart(5, '0')}`
  // 2000 keys, 1800 of them expiring within 1000..1900 ms: one table at the bottom (level 1).
  for (let i = 0; i < 2000; i++) await e.put(key(i), value, i < 1800 ? { ttlMs: 1000 + (i % 10) * 100 } : undefined)
  await e.compactAll()
  const before = e.stats()
  t.equal(before.levels[1]!.files, 1)
  // Sorted, the 1800 TTLs are 180 each of 1000, 1100, ..., 1900 ms: their fifth eighth (rank
  // 1125) is 1600 ms, when at least 1125 of the 2000 entries are known to have expired.
  clock.advance(1599)
  await idle()
  t.equal(e.stats().garbageCompactions, 0, 'not before half the table is known to have expired')
  clock.advance(1) // the timer set for that eighth wakes the picker
  await idle()
  const half = e.stats()
  t.equal(half.garbageCompactions, 1, 'one garbage compaction at 1600 ms')
  t.ok(half.tableBytes < before.tableBytes / 2, `table bytes ${before.tableBytes} -> ${half.tableBytes} (the 1260 expired by 1600 ms dropped)`)
  t.equal(half.levels[1]!.files, 1, 'rewritten in its own level')
  clock.advance(300) // the rest: 540 TTLs of 740 entries
  await idle()
  const after = e.stats()
  t.equal(after.garbageCompactions, 2)
  t.ok(after.tableBytes < before.tableBytes / 5, `table bytes ${half.tableBytes} -> ${after.tableBytes}`)
  t.same(e.getSync(key(1999)), value, 'live keys stay')

  // A snapshot older than the table holds it back; released, the picker takes it 10 s later.
  const snap = e.snapshot()
  for (let i = 3000; i < 3300; i++) await e.put(key(i), value, { ttlMs: 100 })
  await e.compactAll()
  clock.advance(200)
  await idle()
  t.equal(e.stats().garbageCompactions, 2, 'held back while an older snapshot is open')
  snap.release()
  clock.advance(10_000)
  await idle()
  t.equal(e.stats().garbageCompactions, 3, 'taken once the snapshot is released')
  t.equal(e.getSync(key(3000)), undefined)
  // Level 0, below its trigger: the last flushes before writes stop are not left behind.
  for (let i = 4000; i < 4500; i++) await e.put(key(i), value, { ttlMs: 100 })
  await e.flush()
  await idle()
  t.equal(e.stats().levels[0]!.files, 1, 'a level-0 table whose TTLs are ahead')
  clock.advance(100)
  await idle()
  t.equal(e.stats().garbageCompactions, 4)
  t.equal(e.stats().levels[0]!.files, 0, 'compacted into level 1 once they pass')
  // Tombstones: a flush of deletes over a range of level 1 with more live entries waits (it
  // would rewrite more than it drops); once they are half of what it reads, it goes down.
  for (let i = 1800; i < 1950; i++) await e.del(key(i))
  await e.flush()
  await idle()
  t.equal(e.stats().garbageCompactions, 4, '150 tombstones in the 350 entries it would read: not yet')
  t.equal(e.getSync(key(1850)), undefined)
  for (let i = 1950; i < 2000; i++) await e.del(key(i))
  await e.flush()
  await idle()
  t.equal(e.stats().garbageCompactions, 5, '200 tombstones in 400 entries')
  t.equal(e.stats().levels[0]!.files, 0)
  let n = 0
  const it = e.iterator()
  while (it.next() !== undefined) n++
  it.close()
  t.equal(n, 0, 'nothing is left')
  t.equal(e.stats().tableBytes, 0, 'and no table')
  await e.close()
})

// (The recovery flush of the log found at open leads there: a store always has one once opened.)
t.test('garbage compaction: a store reopened after its TTLs passed is compacted with no write', async (t) => {
  const dir = tempDir(t)
  const clock = new ManualClock()
  let e = await Engine.open(dir, { clock, compactionInline: true, durability: 'none' })
  for (let i = 0; i < 1000; i++) await e.put(`k${String(i).padStart(4, '0')}`, Buffer.alloc(100, 1), { ttlMs: 1000 })
  await e.compactAll()
  await e.close()
  clock.advance(5000) // while closed
  e = await Engine.open(dir, { clock, compactionInline: true, durability: 'none' })
  while (e.stats().backgroundBusy) await new Promise((resolve) => setImmediate(resolve))
  t.equal(e.stats().garbageCompactions, 1, 'compacted at open')
  t.equal(e.stats().tableBytes, 0)
  await e.close()
})
