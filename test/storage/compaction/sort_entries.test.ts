// The flush's sort (compaction/jobs.ts sortEntries) against a plain comparator sort, on keys
// shaped like a cluster node's (a shared prefix, then runs of equal bytes), with bytes above
// 0x7f, prefixes of other keys, many versions per key and versions out of seq order.

import t, { type Test } from 'tap'
import { sortEntries } from '../../../lib/storage/compaction/jobs'
import { Kind, type Entry } from '../../../lib/storage/types'
import { makePrng, seedFromEnv, type Prng } from '../../../lib/util/prng'

function key(prng: Prng, id: number): Buffer {
  switch (id % 4) {
    case 0: // a cluster data key: 0x00, u16 partition, 'k' and zero-padded digits
      return Buffer.from([0, 0, id % 7, ...Buffer.from('k' + String(id).padStart(15, '0'), 'latin1')])
    case 1: // bytes above 0x7f (latin1 must order them bytewise, not as UTF-8 or UTF-16)
      return Buffer.from([0, 0, id % 7, 0xc3, 0x80 + (id % 64), 0xff, id & 0xff])
    case 2: // a prefix of a case-0 key
      return Buffer.from([0, 0, id % 7, 0x6b, 0x30])
    default:
      return prng.bytes(prng.range(0, 4))
  }
}

t.test('randomized: sortEntries orders by key ascending, then seq descending', async (t) => {
  const seed = seedFromEnv()
  t.comment(`seed ${seed} (RINGWOOD_SEED=${seed} reproduces)`)
  const prng = makePrng(seed)
  for (let round = 0; round < 30; round++) {
    const distinct = prng.range(1, 400)
    const keys = Array.from({ length: distinct }, (_, i) => key(prng, i * 13 + round))
    const n = prng.range(0, 3000)
    // Seqs in log order, except now and then one taken out of order (a replayed write).
    const seqs = Array.from({ length: n }, (_, i) => i + 1)
    for (let i = 0; i < n / 20; i++) {
      const a = prng.int(n)
      const b = prng.int(n)
      ;[seqs[a], seqs[b]] = [seqs[b]!, seqs[a]!]
    }
    const entries: Entry[] = seqs.map((seq) => {
      const k = keys[prng.bool(0.3) ? prng.int(Math.min(distinct, 5)) : prng.int(distinct)]!
      return { key: Buffer.from(k), seq, kind: Kind.Put, expiresAtMs: 0, value: Buffer.alloc(0) }
    })
    const want = [...entries].sort((a, b) => Buffer.compare(a.key, b.key) || b.seq - a.seq)
    const got = sortEntries(entries)
    if (!same(t, `seed ${seed} round ${round}`, got, want)) return
    // With a snapshot: every version a reader at the snapshot or later can see is kept (those
    // above it, and each key's newest at or below it), in order; others may be dropped (the
    // compaction filter drops the rest), and are when the versions came in seq order.
    const snapshot = prng.range(0, n)
    const visible = want.filter((e, i) => e.seq > snapshot || i === 0 || !want[i - 1]!.key.equals(e.key) || want[i - 1]!.seq > snapshot)
    const pruned = sortEntries(entries, snapshot)
    const at = new Map(want.map((e, i) => [e.seq, i]))
    const ordered = pruned.every((e, i) => i === 0 || at.get(e.seq)! > at.get(pruned[i - 1]!.seq)!)
    const kept = new Set(pruned.map((e) => e.seq))
    const lost = visible.find((e) => !kept.has(e.seq))
    if (!ordered || lost !== undefined) {
      t.fail(`seed ${seed} round ${round} snapshot ${snapshot}: ${!ordered ? 'out of order' : `lost ${lost!.key.toString('hex')}@${lost!.seq}`}`)
      return
    }
    const inOrder = [...entries].sort((a, b) => a.seq - b.seq)
    if (!same(t, `seed ${seed} round ${round} snapshot ${snapshot}, in seq order`, sortEntries(inOrder, snapshot), visible)) return
  }
  t.pass('30 rounds match, with and without a snapshot')
})

function same(t: Test, what: string, got: readonly Entry[], want: readonly Entry[]): boolean {
  // (seqs are distinct: a seq names its entry)
  const n = want.length
  const differs = got.length !== n ? Math.min(got.length, n) : got.findIndex((e, i) => e.seq !== want[i]!.seq || !e.key.equals(want[i]!.key))
  if (differs === -1) return true
  t.fail(`${what}: entry ${differs} of ${n} (got ${got.length}) is ${got[differs]?.key.toString('hex')}@${got[differs]?.seq}, want ${want[differs]?.key.toString('hex')}@${want[differs]?.seq}`)
  return false
}
