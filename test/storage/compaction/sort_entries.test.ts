// The flush's sort (compaction/jobs.ts sortEntries) against a plain comparator sort, on keys
// shaped like a cluster node's (a shared prefix, then runs of equal bytes), with bytes above
// 0x7f, prefixes of other keys, many versions per key and versions out of seq order.

import t from 'tap'
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
    // (seqs are distinct: a seq names its entry)
    const differs = got.length !== n ? Math.min(got.length, n) : got.findIndex((e, i) => e.seq !== want[i]!.seq || !e.key.equals(want[i]!.key))
    if (differs !== -1) {
      t.fail(`seed ${seed} round ${round}: entry ${differs} of ${n} is ${got[differs]?.key.toString('hex')}@${got[differs]?.seq}, want ${want[differs]?.key.toString('hex')}@${want[differs]?.seq}`)
      return
    }
  }
  t.pass('30 rounds match')
})
