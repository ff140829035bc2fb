// TableBuilder + TableReader (FORMAT.md §3), run against both readers (mmap and pread):
// lookups at snapshots (tombstones and expired entries included), versions kept in one block,
// properties, iterators both ways, approximateOffsetOf, bloom stats, closed-table assertions.

import path from 'node:path'
import t from 'tap'
import { AssertionError } from '../../../lib/assert'
import { TableBuilder, expiryEighths } from '../../../lib/storage/sstable/table_builder'
import { Kind } from '../../../lib/storage/types'
import { dumpSstable } from '../../../lib/storage/sstable/dump'
import { decodeProperties, encodeProperties, type TableProperties } from '../../../lib/storage/sstable/table_properties'
import { catchErr, type ModelEntry, openWith, readers, tmpDir, writeTable } from './helpers'
import { thrown } from '../../support/tmp'

const e = (key: string, seq: number, kind: Kind, value = '', expiresAtMs = 0): ModelEntry => ({
  key: Buffer.from(key), seq, kind, expiresAtMs, value: Buffer.from(value),
})

function sample(): ModelEntry[] {
  const out: ModelEntry[] = []
  for (let i = 0; i < 300; i++) {
    const k = `key${String(i).padStart(4, '0')}`
    if (i % 7 === 0) out.push(e(k, 1000 + i, Kind.Del))
    out.push(e(k, 500 + i, i % 5 === 0 ? Kind.PutTtl : Kind.Put, `v${i}-new`, i % 5 === 0 ? 1_700_000_000_000 + i : 0))
    if (i % 3 === 0) out.push(e(k, 10 + i, Kind.Put, `v${i}-old`))
  }
  return out
}

for (const reader of readers) {
  t.test(`${reader}: get returns the newest version at or below the snapshot`, async (t) => {
    const file = path.join(tmpDir(t), '000001.sst')
    writeTable(file, sample(), { blockBytes: 256 })
    const r = openWith(file, reader)
    t.teardown(() => r.close())
    t.ok(r.index.count > 10, 'several data blocks')
    const g0 = r.get(Buffer.from('key0000'), Number.MAX_SAFE_INTEGER)!
    t.equal(g0.kind, Kind.Del, 'tombstone is returned')
    t.equal(g0.seq, 1000)
    const g1 = r.get(Buffer.from('key0000'), 999)!
    t.equal(g1.kind, Kind.PutTtl, 'expired or not, a TTL entry is returned')
    t.equal(g1.expiresAtMs, 1_700_000_000_000)
    t.equal(g1.value.toString(), 'v0-new')
    t.equal(r.get(Buffer.from('key0000'), 499)!.value.toString(), 'v0-old')
    t.equal(r.get(Buffer.from('key0000'), 9), undefined, 'older than every version')
    t.equal(r.get(Buffer.from('key0001'), 10_000)!.value.toString(), 'v1-new')
    t.equal(r.get(Buffer.from('key0299'), 10_000)!.seq, 799)
    t.equal(r.get(Buffer.from('key'), 10_000), undefined, 'before the first key')
    t.equal(r.get(Buffer.from('key00005'), 10_000), undefined, 'between keys')
    t.equal(r.get(Buffer.from('zzz'), 10_000), undefined, 'after the last key')
    const copy = r.get(Buffer.from('key0002'), 10_000)!.copyValue()
    r.get(Buffer.from('key0003'), 10_000)
    t.equal(copy.toString(), 'v2-new', 'copyValue survives the next get')
  })

  t.test(`${reader}: properties describe the table`, async (t) => {
    const file = path.join(tmpDir(t), '000002.sst')
    const entries = sample()
    const built = new TableBuilder({ blockBytes: 256, bloomBitsPerKey: 10, zeroSeqs: false }, () => {})
    for (const x of entries) built.add(x.key, x.seq, x.kind, x.expiresAtMs, x.value)
    const { properties: p } = built.finish()
    writeTable(file, entries, { blockBytes: 256 })
    const r = openWith(file, reader)
    t.teardown(() => r.close())
    t.same(r.properties, p)
    t.equal(p.entries, entries.length)
    t.equal(p.keys, 300)
    t.equal(p.tombstones, 43)
    t.equal(p.minSeq, 10)
    t.equal(p.maxSeq, 1294)
    t.equal(p.smallest.toString(), 'key0000')
    t.equal(p.largest.toString(), 'key0299')
    t.equal(p.minExpiresAtMs, 1_700_000_000_000)
    t.equal(p.rawKeyBytes, entries.length * 7)
    const times = entries.filter((x) => x.kind === Kind.PutTtl).map((x) => x.expiresAtMs).sort((a, b) => a - b)
    t.equal(p.ttlEntries, times.length)
    t.ok(times.length > 8, `${times.length} TTL entries`)
    t.same(p.ttlExpiryEighths, [1, 2, 3, 4, 5, 6, 7, 8].map((j) => times[Math.ceil((j * times.length) / 8) - 1]), 'eighths of the sorted TTLs')
  })

  t.test(`${reader}: all versions of a key stay in one block`, async (t) => {
    const file = path.join(tmpDir(t), '000003.sst')
    const entries: ModelEntry[] = []
    for (let s = 100; s > 0; s--) entries.push(e('hot', s, Kind.Put, 'x'.repeat(50)))
    entries.push(e('next', 5, Kind.Put, 'n'))
    writeTable(file, entries, { blockBytes: 128 })
    const r = openWith(file, reader)
    t.teardown(() => r.close())
    t.equal(r.index.count, 2, 'one oversize block for "hot", one for "next"')
    for (const s of [100, 77, 16, 17, 1]) t.equal(r.get(Buffer.from('hot'), s)!.seq, s)
    t.equal(r.get(Buffer.from('hot'), 0), undefined)
  })

  t.test(`${reader}: iterators forward and reverse, with seeks`, async (t) => {
    const file = path.join(tmpDir(t), '000004.sst')
    const entries = sample()
    writeTable(file, entries, { blockBytes: 200 })
    const r = openWith(file, reader)
    t.teardown(() => r.close())
    const fwd = r.iterator(false)
    const seen: string[] = []
    for (fwd.seekToStart(); fwd.valid(); fwd.next()) seen.push(`${fwd.key()}@${fwd.seq()}`)
    t.same(seen, entries.map((x) => `${x.key}@${x.seq}`))
    const rev = r.iterator(true)
    const back: string[] = []
    for (rev.seekToStart(); rev.valid(); rev.next()) back.push(`${rev.key()}@${rev.seq()}`)
    t.same(back, seen.slice().reverse())
    fwd.seek(Buffer.from('key0100'))
    t.equal(`${fwd.key()}@${fwd.seq()}`, 'key0100@600')
    fwd.seek(Buffer.from('key00995'))
    t.equal(`${fwd.key()}@${fwd.seq()}`, 'key0100@600')
    fwd.seek(Buffer.from('zz'))
    t.notOk(fwd.valid())
    rev.seek(Buffer.from('key0099'))
    t.equal(`${rev.key()}@${rev.seq()}`, 'key0099@109', 'reverse seek lands on the oldest version of the key')
    rev.next()
    t.equal(`${rev.key()}@${rev.seq()}`, 'key0099@599')
    rev.seek(Buffer.from('key00995'))
    t.equal(`${rev.key()}@${rev.seq()}`, 'key0099@109')
    rev.seek(Buffer.from('a'))
    t.notOk(rev.valid())
    rev.seek(Buffer.from('zz'))
    t.equal(`${rev.key()}@${rev.seq()}`, 'key0299@799')
    fwd.close()
    rev.close()
  })

  t.test(`${reader}: empty table`, async (t) => {
    const file = path.join(tmpDir(t), '000005.sst')
    writeTable(file, [])
    const r = openWith(file, reader)
    t.teardown(() => r.close())
    t.equal(r.index.count, 0)
    t.equal(r.properties.entries, 0)
    t.equal(r.get(Buffer.from('a'), 1), undefined)
    const it = r.iterator(false)
    it.seekToStart()
    t.notOk(it.valid())
    it.seek(Buffer.from('a'))
    t.notOk(it.valid())
    const rit = r.iterator(true)
    rit.seek(Buffer.from('a'))
    t.notOk(rit.valid())
  })

  t.test(`${reader}: bloom filter stats, approximateOffsetOf, zeroSeqs`, async (t) => {
    const file = path.join(tmpDir(t), '000006.sst')
    const entries: ModelEntry[] = []
    for (let i = 0; i < 2000; i++) entries.push(e(`k${String(i).padStart(6, '0')}`, i + 1, Kind.Put, 'v'.repeat(20)))
    writeTable(file, entries, { zeroSeqs: true })
    const r = openWith(file, reader)
    t.teardown(() => r.close())
    for (let i = 0; i < 1000; i++) r.get(Buffer.from(`absent${i}`), 1e9)
    t.equal(r.stats.bloomChecked, 1000)
    t.ok(r.stats.bloomUseful >= 960, `bloom filtered ${r.stats.bloomUseful} of 1000`)
    t.equal(r.get(Buffer.from('k000123'), 0)!.seq, 0, 'seqs are written as 0')
    t.equal(r.properties.maxSeq, 2000, 'properties keep the real seqs')
    t.equal(r.approximateOffsetOf(Buffer.from('a')), 0)
    const mid = r.approximateOffsetOf(Buffer.from('k001000'))
    t.ok(mid > r.size * 0.3 && mid < r.size * 0.7, `middle key near the middle (${mid} of ${r.size})`)
    t.equal(r.approximateOffsetOf(Buffer.from('z')), r.footer.filter.offset)
  })

  t.test(`${reader}: a closed table refuses reads`, async (t) => {
    const file = path.join(tmpDir(t), '000007.sst')
    writeTable(file, sample())
    const r = openWith(file, reader)
    const it = r.iterator(false)
    it.seekToStart()
    r.close()
    t.type(catchErr(() => r.get(Buffer.from('key0001'), 1e9)), AssertionError)
    t.type(catchErr(() => r.iterator(false)), AssertionError)
    t.type(catchErr(() => it.value()), AssertionError)
    t.type(catchErr(() => it.next()), AssertionError)
  })

  t.test(`${reader}: dump lists footer, properties, index and every entry`, async (t) => {
    const file = path.join(tmpDir(t), '000008.sst')
    writeTable(file, [e('a', 3, Kind.Put, 'hello'), e('a', 2, Kind.Del), e('b\u0001', 1, Kind.PutTtl, 'x', 42)])
    const out = dumpSstable(file, { reader })
    t.match(out, /footer: filter @\d+\+\d+/)
    t.match(out, /entries: 3/)
    t.match(out, /"a" seq=3 PUT value="hello"/)
    t.match(out, /"a" seq=2 DEL/)
    t.match(out, /0x6201 seq=1 PUT_TTL expiresAtMs=42 value="x"/)
    t.match(out, /every checksum verified/)
  })
}

t.test('TableBuilder asserts FORMAT.md §1 order', async (t) => {
  const b = new TableBuilder({ blockBytes: 4096, bloomBitsPerKey: 10, zeroSeqs: false }, () => {})
  b.add(Buffer.from('b'), 5, Kind.Put, 0, Buffer.from('x'))
  t.type(catchErr(() => b.add(Buffer.from('a'), 9, Kind.Put, 0, Buffer.alloc(0))), AssertionError, 'key descending')
  t.type(catchErr(() => b.add(Buffer.from('b'), 5, Kind.Put, 0, Buffer.alloc(0))), AssertionError, 'same seq')
  t.type(catchErr(() => b.add(Buffer.from('b'), 6, Kind.Put, 0, Buffer.alloc(0))), AssertionError, 'seq ascending')
  t.type(catchErr(() => b.add(Buffer.from('c'), 1, Kind.Del, 0, Buffer.from('v'))), AssertionError, 'tombstone with a value')
  b.add(Buffer.from('b'), 4, Kind.Del, 0, Buffer.alloc(0))
  b.finish()
  t.type(catchErr(() => b.finish()), AssertionError)
})

t.test('properties: ttlExpiryEighths must be 8 ascending times of a table with TTLs, or empty', async (t) => {
  const base = {
    entries: 1, keys: 1, tombstones: 0, rawKeyBytes: 1, rawValueBytes: 1, minSeq: 1, maxSeq: 1,
    smallest: Buffer.from('a'), largest: Buffer.from('a'), minExpiresAtMs: 5, ttlEntries: 1,
  }
  const decode = (p: TableProperties): TableProperties => {
    const b = encodeProperties(p)
    return decodeProperties(b, 0, b.length, 'x.sst', 0)
  }
  t.same(decode({ ...base, ttlExpiryEighths: [5, 5, 5, 5, 5, 5, 5, 5] }).ttlExpiryEighths, [5, 5, 5, 5, 5, 5, 5, 5])
  t.same(decode({ ...base, ttlEntries: 0, ttlExpiryEighths: [] }).ttlExpiryEighths, [])
  for (const bad of [[5, 5, 5], [5, 6, 7, 8, 9, 10, 11, 4]]) {
    t.equal(thrown(() => decode({ ...base, ttlExpiryEighths: bad }))?.code, 'KV_CORRUPTION', `refused: ${bad.join(',')}`)
  }
  t.equal(thrown(() => decode({ ...base, ttlEntries: 0, ttlExpiryEighths: [1, 1, 1, 1, 1, 1, 1, 1] }))?.code, 'KV_CORRUPTION', 'eighths without TTL entries')
})

t.test('expiryEighths: e[ceil(j × n / 8)] of the sorted times, by hand', async (t) => {
  t.same(expiryEighths([]), [])
  t.same(expiryEighths([5]), [5, 5, 5, 5, 5, 5, 5, 5])
  t.same(expiryEighths([30, 10, 20]), [10, 10, 20, 20, 20, 30, 30, 30])
  t.same(expiryEighths([9, 8, 7, 6, 5, 4, 3, 2, 1]), [2, 3, 4, 5, 6, 7, 8, 9])
  t.same(expiryEighths([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]), [2, 4, 6, 8, 10, 12, 14, 16])
})
