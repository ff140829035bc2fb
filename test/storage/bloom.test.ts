// The SSTable bloom filter (FORMAT.md §3.3): no false negatives, ~1% false positives at 10 bits
// per key, the probe count, empty filters, malformed filters.

import t from 'tap'
import { BloomBuilder, bloomProbes, BloomReader } from '../../lib/storage/bloom/index'
import { isKvError } from '../../lib/errors'
import { hash32 } from '../../lib/util/hash'
import { catchErr } from '../support/tmp'

function key(i: number): Buffer {
  const b = Buffer.alloc(16)
  b.writeUInt32BE(i, 12)
  b.write('user', 0)
  return b
}

t.test('no false negatives; ~1% false positives at 10 bits per key', async (t) => {
  const n = 50_000
  const b = new BloomBuilder(10)
  for (let i = 0; i < n; i++) b.addKey(key(i))
  const filter = b.finish()
  t.equal(filter.length, Math.ceil((n * 10) / 8) + 1)
  t.equal(filter[filter.length - 1], 7, 'k = round(10 ln 2)')
  const r = new BloomReader(filter)
  let missed = 0
  for (let i = 0; i < n; i++) if (!r.mayContain(key(i))) missed++
  t.equal(missed, 0, 'every added key may be contained')
  let fp = 0
  const probes = 100_000
  for (let i = n; i < n + probes; i++) if (r.mayContain(key(i))) fp++
  const rate = fp / probes
  t.comment(`false positive rate at 10 bits/key: ${(rate * 100).toFixed(3)}%`)
  t.ok(rate > 0.003 && rate < 0.02, `rate ${rate} near 1%`)
})

t.test('mayContain works on a sub-range of a buffer', async (t) => {
  const b = new BloomBuilder(10)
  b.addKey(Buffer.from('hello'))
  const r = new BloomReader(b.finish())
  t.ok(r.mayContain(Buffer.from('xxhelloyy'), 2, 7))
})

t.test('the probe sequence is the spec one (bit layout)', async (t) => {
  const b = new BloomBuilder(10)
  b.addKey(Buffer.from('k'))
  const f = b.finish()
  t.equal(f.length, 9, 'nbits = max(64, 1 × 10) = 64 → 8 bytes + k')
  let h = hash32(Buffer.from('k'), 0xbc9f1d34)
  const delta = ((h >>> 17) | (h << 15)) >>> 0
  const want = Buffer.alloc(8)
  for (let i = 0; i < 7; i++) {
    want[(h % 64) >>> 3]! |= 1 << (h % 64 & 7)
    h = (h + delta) >>> 0
  }
  t.same(f.subarray(0, 8), want)
})

t.test('probes, empty and malformed filters', async (t) => {
  t.equal(bloomProbes(1), 1)
  t.equal(bloomProbes(10), 7)
  t.equal(bloomProbes(32), 22)
  t.equal(new BloomBuilder(10).finish().length, 0, 'no keys: empty filter')
  const zero = new BloomBuilder(0)
  zero.addKey(Buffer.from('a'))
  t.equal(zero.finish().length, 0, 'bitsPerKey 0: empty filter')
  t.ok(new BloomReader(Buffer.alloc(0)).mayContain(Buffer.from('anything')))
  const bad = Buffer.alloc(9)
  bad[8] = 31
  t.ok(isKvError(catchErr(() => new BloomReader(bad)), 'KV_CORRUPTION'))
  t.ok(isKvError(catchErr(() => new BloomReader(Buffer.from([3]))), 'KV_CORRUPTION'))
})
