// The memtable against a trivially correct model (a sorted array), with random snapshot
// sequence numbers, both iterator directions, seeks, and writes while iterators are open.

import t from 'tap'
import { memtableEntryOverheadBytes } from '../../lib/constants'
import { Memtable } from '../../lib/storage/memtable'
import { Kind, type Entry, type InternalIterator } from '../../lib/storage/types'
import { makePrng, seedFromEnv, type Prng } from '../../lib/util/prng'

type Row = [key: string, seq: number, kind: number, expiresAtMs: number, value: string]

function row(e: { key: Buffer; seq: number; kind: number; expiresAtMs: number; value: Buffer }): Row {
  return [e.key.toString('hex'), e.seq, e.kind, e.expiresAtMs, e.value.toString('hex')]
}

function order(a: Entry, b: Entry): number {
  return Buffer.compare(a.key, b.key) || b.seq - a.seq
}

function drain(it: InternalIterator): Row[] {
  const out: Row[] = []
  for (; it.valid(); it.next()) out.push(row({ key: it.key(), seq: it.seq(), kind: it.kind(), expiresAtMs: it.expiresAtMs(), value: it.value() }))
  return out
}

function randomKey(prng: Prng): Buffer {
  // A small key space with shared prefixes, 0x00 and 0xff bytes, and the empty key.
  const len = prng.range(0, 3)
  const b = Buffer.alloc(len)
  for (let i = 0; i < len; i++) b[i] = prng.pick([0, 1, 0x61, 0x62, 0x7f, 0x80, 0xfe, 0xff])
  return b
}

t.test('randomized: get, iterators and seeks match a sorted model', async (t) => {
  const seed = seedFromEnv()
  t.comment(`seed ${seed} (RINGWOOD_SEED=${seed} reproduces)`)
  const prng = makePrng(seed)
  for (let round = 0; round < 20; round++) {
    const mt = new Memtable()
    const model: Entry[] = []
    const used = new Set<number>()
    let nextSeq = 1
    const ops = prng.range(1, 400)
    for (let op = 0; op < ops; op++) {
      // Mostly increasing sequence numbers; sometimes an older, unused one (replay order).
      let seq = nextSeq++
      if (prng.bool(0.1) && nextSeq > 10) {
        const older = prng.range(1, nextSeq * 4)
        if (!used.has(older) && older < nextSeq * 4) seq = older
      }
      if (used.has(seq)) continue
      used.add(seq)
      nextSeq = Math.max(nextSeq, seq + 1)
      const kind = prng.pick([Kind.Del, Kind.Put, Kind.Put, Kind.PutTtl])
      const e: Entry = { key: randomKey(prng), seq, kind, expiresAtMs: kind === Kind.PutTtl ? prng.range(1, 1e12) : 0, value: kind === Kind.Del ? Buffer.alloc(0) : prng.bytes(prng.range(0, 8)) }
      mt.add(e.key, e.seq, e.kind, e.expiresAtMs, e.value)
      model.push(e)
      if (prng.bool(0.9)) continue
      model.sort(order)
      const maxSeq = Math.max(...used)
      // Point reads at random snapshots.
      for (let q = 0; q < 20; q++) {
        const k = randomKey(prng)
        const snap = prng.range(0, maxSeq + 1)
        const want = model.find((m) => m.key.equals(k) && m.seq <= snap)
        const got = mt.get(k, snap)
        if (JSON.stringify(got && row(got)) !== JSON.stringify(want && row(want))) t.fail(`seed ${seed} round ${round}: get(${k.toString('hex')}, ${snap})`)
      }
      // Full scans, both directions.
      const rows = model.map(row)
      const fwd = mt.iterator(false)
      fwd.seekToStart()
      if (JSON.stringify(drain(fwd)) !== JSON.stringify(rows)) t.fail(`seed ${seed} round ${round}: forward scan`)
      const rev = mt.iterator(true)
      rev.seekToStart()
      if (JSON.stringify(drain(rev)) !== JSON.stringify([...rows].reverse())) t.fail(`seed ${seed} round ${round}: reverse scan`)
      // Seeks, both directions.
      for (let q = 0; q < 10; q++) {
        const target = randomKey(prng)
        const it = mt.iterator(false)
        it.seek(target)
        const wantF = model.filter((m) => Buffer.compare(m.key, target) >= 0).map(row)
        if (JSON.stringify(drain(it)) !== JSON.stringify(wantF)) t.fail(`seed ${seed} round ${round}: seek forward ${target.toString('hex')}`)
        const ir = mt.iterator(true)
        ir.seek(target)
        const wantR = model.filter((m) => Buffer.compare(m.key, target) <= 0).map(row).reverse()
        if (JSON.stringify(drain(ir)) !== JSON.stringify(wantR)) t.fail(`seed ${seed} round ${round}: seek reverse ${target.toString('hex')}`)
      }
      t.equal(mt.count, model.length)
      if (JSON.stringify(mt.sortedEntries().map(row)) !== JSON.stringify(rows)) t.fail('sortedEntries')
    }
  }
  t.pass('20 rounds')
})

t.test('iterators stay ordered and complete while writes happen', async (t) => {
  const seed = seedFromEnv()
  t.comment(`seed ${seed}`)
  const prng = makePrng(seed)
  for (const reverse of [false, true]) {
    const mt = new Memtable()
    let seq = 1
    for (let i = 0; i < 500; i++) mt.add(randomKey(prng), seq++, Kind.Put, 0, prng.bytes(4))
    const before = mt.sortedEntries().map(row)
    const it = mt.iterator(reverse)
    it.seekToStart()
    const seen: Row[] = []
    for (; it.valid(); it.next()) {
      seen.push(row({ key: it.key(), seq: it.seq(), kind: it.kind(), expiresAtMs: it.expiresAtMs(), value: it.value() }))
      if (prng.bool(0.3)) mt.add(prng.bool() ? randomKey(prng) : prng.bytes(prng.range(1, 5)), seq++, Kind.Put, 0, prng.bytes(4))
    }
    const asc = reverse ? [...seen].reverse() : seen
    let ordered = true
    for (let i = 1; i < asc.length; i++) {
      const c = Buffer.compare(Buffer.from(asc[i - 1]![0], 'hex'), Buffer.from(asc[i]![0], 'hex'))
      if (c > 0 || (c === 0 && asc[i - 1]![1] <= asc[i]![1])) ordered = false
    }
    t.ok(ordered, `${reverse ? 'reverse' : 'forward'}: no key skipped back or repeated`)
    const seenSet = new Set(seen.map((r) => JSON.stringify(r)))
    t.ok(before.every((r) => seenSet.has(JSON.stringify(r))), 'every entry present at creation was seen')
  }
})

t.test('versions below the oldest snapshot are pruned, accounting follows', async (t) => {
  let oldest = 0
  const mt = new Memtable({ oldestSnapshotSeq: () => oldest })
  const k = Buffer.from('k')
  const v = Buffer.from('0123456789')
  for (let s = 1; s <= 5; s++) mt.add(k, s, Kind.Put, 0, v)
  t.equal(mt.count, 5, 'a snapshot at 0 keeps every version')
  oldest = 3
  mt.add(k, 6, Kind.Put, 0, v)
  t.same(mt.sortedEntries().map((e) => e.seq), [6, 5, 4, 3], 'kept: above 3, and the newest at or below 3')
  t.equal(mt.count, 4)
  t.equal(mt.approximateBytes, 4 * (1 + 10 + memtableEntryOverheadBytes))
  t.equal(mt.get(k, 3)?.seq, 3)
  oldest = 100
  mt.add(k, 7, Kind.Del, 0, Buffer.alloc(0))
  t.same(mt.sortedEntries().map((e) => e.seq), [7], 'no snapshots: only the newest (a tombstone) is kept')
  t.equal(mt.get(k)?.kind, Kind.Del)
  t.equal(mt.minSeq, 1)
  t.equal(mt.maxSeq, 7)
})
