// Garbage compaction's picker (DESIGN.md, "Garbage compaction"): which table, into which level,
// and when to look again; pure, on hand-made versions.

import t from 'tap'
import { levelsMax } from '../../../lib/constants'
import { garbageShare, nextGarbageDueMs, pickGarbageCompaction, type GarbageFacts } from '../../../lib/storage/compaction/picker'
import { Version } from '../../../lib/storage/version/version'
import type { TableMeta } from '../../../lib/storage/version/version_edit'

const table = (fileNumber: number, smallest: string, largest: string, maxSeq = 10): TableMeta => ({
  fileNumber, size: 1000, smallest: Buffer.from(smallest), largest: Buffer.from(largest), minSeq: 1, maxSeq, entries: 100,
})

function version(levels: Record<number, TableMeta[]>): Version {
  return new Version(Array.from({ length: levelsMax }, (_, l) => levels[l] ?? []))
}

const facts = (f: Partial<GarbageFacts>): GarbageFacts => ({ entries: 100, tombstones: 0, ttlEntries: 0, ttlExpiryEighths: [], ...f })
/** TTL facts whose eighths are all `at` (every TTL the same time). */
const ttls = (n: number, at: number, tombstones = 0): GarbageFacts => facts({ tombstones, ttlEntries: n, ttlExpiryEighths: Array(8).fill(at) })
const now = 1_000_000

t.test('garbage share: tombstones, and the TTL entries known to have expired, by eighths', async (t) => {
  t.equal(garbageShare([facts({ tombstones: 30 })], now), 0.3)
  t.equal(garbageShare([ttls(60, now, 10)], now), 0.7, 'every TTL passed at now')
  t.equal(garbageShare([ttls(60, now + 1, 10)], now), 0.1, 'none yet')
  // 60 TTLs, eighths at now-3, now-2, now-1, then later: 3/8 of 60 is 22.5, so at least 23 expired.
  const some = facts({ ttlEntries: 60, ttlExpiryEighths: [now - 3, now - 2, now - 1, now + 1, now + 2, now + 3, now + 4, now + 1e9] })
  t.equal(garbageShare([some], now), 0.23, 'three eighths passed')
  t.equal(garbageShare([some], now + 4), 0.53, 'seven: a far later TTL holds back only its own eighth')
  t.equal(garbageShare([facts({ entries: 0 })], now), 0)
  t.equal(garbageShare([facts({ tombstones: 90 }), facts({ entries: 900, tombstones: 10 })], now), 0.1, 'over several tables: by entries')
})

t.test('the table with the most garbage: alone in its level at the bottom, else with the next level', async (t) => {
  const a = table(1, 'a', 'f')
  const b = table(2, 'g', 'm')
  const deep = table(3, 'h', 'k')
  const v = version({ 1: [a, b], 3: [deep] })
  const c = table(7, 'g', 'j')
  const v2 = version({ 1: [a, b], 2: [c], 3: [deep] })
  const of = new Map<number, GarbageFacts>([
    [1, facts({ tombstones: 60 })],
    [2, facts({ tombstones: 80 })],
    [3, facts({})],
    [7, facts({ tombstones: 30 })],
  ])
  const plan = pickGarbageCompaction(v2, (x) => of.get(x.fileNumber), now, 100)
  t.match(plan, { level: 1, outputLevel: 2, reason: 'garbage', score: 0.55 }, 'b has the most; level 3 overlaps it; with c, 110 of 200')
  t.same(plan!.inputs.map((x) => x.fileNumber), [2])
  t.same(plan!.outputs.map((x) => x.fileNumber), [7])
  t.equal(plan!.bottommost, false)
  of.set(7, facts({ entries: 500, tombstones: 30 }))
  t.match(pickGarbageCompaction(v2, (x) => of.get(x.fileNumber), now, 100), { inputs: [a], outputLevel: 1 }, 'b over a large c is not worth it: a is next')
  of.set(7, facts({ tombstones: 30 }))
  of.set(2, facts({ tombstones: 10 }))
  const alone = pickGarbageCompaction(v, (x) => of.get(x.fileNumber), now, 100)
  t.match(alone, { level: 1, outputLevel: 1, bottommost: true, reason: 'garbage' }, 'a: nothing below it, rewritten in its own level')
  t.same(alone!.inputs.map((x) => x.fileNumber), [1])
  t.same(alone!.outputs, [])
  of.set(1, facts({ tombstones: 49 }))
  t.equal(pickGarbageCompaction(v, (x) => of.get(x.fileNumber), now, 100), undefined, 'under half: nothing')
  t.equal(pickGarbageCompaction(v, () => undefined, now, 100), undefined, 'unreadable tables are passed over')
})

t.test('level 0 takes all of level 0; a snapshot older than a table holds it back', async (t) => {
  const l0new = table(6, 'm', 'p', 60)
  const l0 = table(5, 'a', 'z', 50)
  const l1 = table(4, 'c', 'd', 40)
  const v = version({ 0: [l0new, l0], 1: [l1] })
  const of = (x: TableMeta): GarbageFacts => (x.fileNumber === 5 ? ttls(90, now - 1) : facts({ entries: 20 }))
  const plan = pickGarbageCompaction(v, of, now, 50)
  t.match(plan, { level: 0, outputLevel: 1, reason: 'garbage', bottommost: true })
  t.same(plan!.inputs.map((x) => x.fileNumber), [6, 5], 'every level-0 table (they overlap)')
  t.same(plan!.outputs.map((x) => x.fileNumber), [4])
  t.equal(pickGarbageCompaction(v, of, now, 49), undefined, 'a snapshot at 49 may need entries up to 50')
  t.equal(nextGarbageDueMs(v, of, now, 49), now + 10_000, 'looked at again later')
  t.equal(nextGarbageDueMs(v, of, now, 50), now + 3_600_000, 'no eighth ahead: only the hourly look (the picker takes it now)')
})

t.test('when to look again: the earliest time a table qualifies by its TTLs', async (t) => {
  const v = version({ 1: [table(1, 'a', 'b'), table(2, 'c', 'd'), table(3, 'e', 'f')] })
  const of = new Map<number, GarbageFacts>([
    [1, ttls(40, now + 500)], // never enough
    [2, ttls(60, now + 9000)],
    [3, facts({ tombstones: 20, ttlEntries: 40, ttlExpiryEighths: [1, 2, 3, 4, 5, 6, 7, 8].map((j) => now + j * 1000) })],
  ])
  t.equal(nextGarbageDueMs(v, (x) => of.get(x.fileNumber), now, 100), now + 6000, 'table 3 at its 6th eighth: 20 + 30 of 100')
  of.delete(3)
  of.delete(2)
  t.equal(nextGarbageDueMs(v, (x) => of.get(x.fileNumber), now, 100), now + 3_600_000, 'TTLs that will never be enough alone: looked at again within the hour')
  t.equal(nextGarbageDueMs(v, () => facts({}), now, 100), undefined, 'no tombstones, no TTLs: nothing to wait for')
  // Enough garbage, but its plan (with the next level) reads too little: its next eighth.
  const a = table(1, 'a', 'f')
  const c = table(2, 'a', 'f')
  const stacked = version({ 1: [a], 2: [c] })
  const byFile = new Map<number, GarbageFacts>([
    [1, facts({ tombstones: 60, ttlEntries: 40, ttlExpiryEighths: [1, 2, 3, 4, 5, 6, 7, 8].map((j) => now + j * 100) })],
    [2, facts({ entries: 1000 })],
  ])
  t.equal(pickGarbageCompaction(stacked, (x) => byFile.get(x.fileNumber), now, 100), undefined, '60 of 1100 read')
  t.equal(nextGarbageDueMs(stacked, (x) => byFile.get(x.fileNumber), now, 100), now + 100)
})
