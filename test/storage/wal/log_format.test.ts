// FORMAT.md §2: record framing and write-group payloads, byte for byte.

import t from 'tap'
import { isKvError } from '../../../lib/errors'
import { Kind } from '../../../lib/storage/types'
import { decodeGroup, encodeGroupPayload, EntryEncoder, frameRecord, recordHeaderBytes, recordPayloadLength, scanRecords } from '../../../lib/storage/wal/log_format'
import { readU32 } from '../../../lib/util/bytes'
import { checksum } from '../../../lib/util/crc32c'
import { makePrng, seedFromEnv } from '../../../lib/util/prng'
import { goldenHex, plain, randomEntry } from './wal_helpers'
import { catchErr } from '../../support/tmp'

function goldenRecord(): Buffer {
  return frameRecord(
    encodeGroupPayload(0x0102030405, [
      { key: Buffer.from('apple'), seq: 0, kind: Kind.Put, expiresAtMs: 0, value: Buffer.from('red') },
      { key: Buffer.from('kiwi'), seq: 0, kind: Kind.Del, expiresAtMs: 0, value: Buffer.alloc(0) },
      { key: Buffer.from([0, 0xff]), seq: 0, kind: Kind.PutTtl, expiresAtMs: 1_700_000_000_123, value: Buffer.alloc(130, 0x61) },
    ]),
  )
}

t.test('golden: a three-entry record matches test/golden/wal_record.hex', async (t) => {
  const rec = goldenRecord()
  const g = goldenHex('wal_record.hex', rec)
  t.equal(g.actual, g.expected, 'regenerate with RINGWOOD_REWRITE_GOLDEN=1 and review the diff')
  // The framing, spelled out: crc, length, magic, then version 1, firstSeq u64, count u32.
  t.equal(readU32(rec, 4), rec.length - recordHeaderBytes)
  t.equal(rec[8], 0xb7)
  t.equal(readU32(rec, 0), checksum(rec.subarray(8)))
  t.equal(rec[9], 1)
  t.same([...rec.subarray(10, 18)], [5, 4, 3, 2, 1, 0, 0, 0])
  t.equal(readU32(rec, 18), 3)
  t.same([...rec.subarray(22, 33)], [1, 5, ...Buffer.from('apple'), 3, ...Buffer.from('red')])
})

t.test('write groups round-trip; EntryEncoder bytes equal encodeGroupPayload', async (t) => {
  const seed = seedFromEnv()
  t.comment(`seed ${seed} (RINGWOOD_SEED=${seed} reproduces)`)
  const prng = makePrng(seed)
  for (let round = 0; round < 200; round++) {
    const entries = Array.from({ length: prng.range(0, 20) }, () => randomEntry(prng))
    const firstSeq = prng.range(0, 2 ** 50)
    const payload = encodeGroupPayload(firstSeq, entries)
    const enc = new EntryEncoder(8)
    for (const e of entries) enc.add(e.kind, e.key, e.expiresAtMs, e.value)
    t.equal(enc.count, entries.length)
    if (!enc.bytes().equals(payload.subarray(13))) t.fail('encoder differs')
    const g = decodeGroup(payload, 'x.log', 0)
    t.equal(g.firstSeq, firstSeq)
    if (JSON.stringify(g.entries.map(plain)) !== JSON.stringify(entries.map(plain))) t.fail(`round ${round} differs`)
    g.entries.forEach((e, i) => e.seq !== firstSeq + i && t.fail('seq'))
  }
})

t.test('payload checks: unknown version, bad kind, trailing bytes', async (t) => {
  const payload = encodeGroupPayload(7, [{ key: Buffer.from('k'), seq: 0, kind: Kind.Put, expiresAtMs: 0, value: Buffer.from('v') }])
  const v2 = Buffer.from(payload)
  v2[0] = 2
  t.ok(isKvError(catchErr(() => decodeGroup(v2, 'f.log', 9)), 'KV_UNSUPPORTED_VERSION'))
  const badKind = Buffer.from(payload)
  badKind[13] = 9
  const e = catchErr(() => decodeGroup(badKind, 'f.log', 9))
  t.ok(isKvError(e, 'KV_CORRUPTION'))
  t.match((e as Error).message, /f\.log at offset 9/)
  t.ok(isKvError(catchErr(() => decodeGroup(Buffer.concat([payload, Buffer.from([0])]), 'f.log', 0)), 'KV_CORRUPTION'))
  t.ok(isKvError(catchErr(() => decodeGroup(payload.subarray(0, payload.length - 1), 'f.log', 0)), 'KV_CORRUPTION'))
})

t.test('scanRecords yields records with offsets and reports damage', async (t) => {
  const a = frameRecord(Buffer.from('first'))
  const b = frameRecord(Buffer.from('second'))
  const c = frameRecord(Buffer.from('third'))
  const buf = Buffer.concat([a, b, c])
  t.same([...scanRecords(buf)].map((i) => (i.type === 'record' ? [i.offset, i.payload.toString()] : i)), [[0, 'first'], [a.length, 'second'], [a.length + b.length, 'third']])
  const flipped = Buffer.from(buf)
  flipped[a.length + 10]! ^= 1
  const items = [...scanRecords(flipped)]
  t.same(items[1], { type: 'damage', offset: a.length, end: a.length + b.length, resumes: true })
  t.equal(items.length, 3)
  const torn = buf.subarray(0, buf.length - 2)
  t.same([...scanRecords(torn)].at(-1), { type: 'damage', offset: a.length + b.length, end: torn.length, resumes: false })
  t.equal(recordPayloadLength(a, 0), 5)
  t.equal(recordPayloadLength(a, 0, 4), -1, 'longer than the record limit is bad')
})
