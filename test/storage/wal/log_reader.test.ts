// FORMAT.md §2 "Recovery": torn tails are cut, damage in the middle is KV_CORRUPTION naming file
// and offset, repair skips and reports it, unknown versions stop recovery.

import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { isKvError, type KvError } from '../../../lib/errors'
import { RealFs } from '../../../lib/storage/fs/real_fs'
import { encodeGroupPayload, frameRecord } from '../../../lib/storage/wal/log_format'
import { LogReader } from '../../../lib/storage/wal/log_reader'
import { dumpWal } from '../../../lib/storage/wal/dump'
import { put, tempDir } from './wal_helpers'
import { catchErr } from '../../support/tmp'

const realFs = new RealFs()

/** Three records: seqs 1-2, 3, 4-6. */
function segment(): { buf: Buffer; starts: number[] } {
  const recs = [
    frameRecord(encodeGroupPayload(1, [put('a', 'one'), put('b', 'two')])),
    frameRecord(encodeGroupPayload(3, [put('c', 'three')])),
    frameRecord(encodeGroupPayload(4, [put('d', 'four'), put('e', 'five'), put('f', 'six')])),
  ]
  const starts = [0, recs[0]!.length, recs[0]!.length + recs[1]!.length]
  return { buf: Buffer.concat(recs), starts }
}

function seqs(r: LogReader): number[] {
  return r.readAll().flatMap((g) => g.entries.map((e) => e.seq))
}

t.test('a clean segment yields every group in order', async (t) => {
  const file = path.join(tempDir(t), '000001.log')
  fs.writeFileSync(file, segment().buf)
  const r = new LogReader(realFs, file)
  t.same(seqs(r), [1, 2, 3, 4, 5, 6])
  t.equal(r.truncateAt, undefined)
  t.equal(r.lastSeq, 6)
  t.equal(r.endOffset, fs.statSync(file).size)
})

t.test('a torn tail at every byte offset of the last record is cut; all before it recovered', async (t) => {
  const dir = tempDir(t)
  const { buf, starts } = segment()
  const last = starts[2]!
  for (let cut = last; cut < buf.length; cut++) {
    const file = path.join(dir, `${cut}.log`)
    fs.writeFileSync(file, buf.subarray(0, cut))
    const r = new LogReader(realFs, file, { truncate: true })
    const got = seqs(r)
    if (JSON.stringify(got) !== '[1,2,3]' || (cut > last && r.truncateAt !== last)) t.fail(`cut at ${cut}: ${JSON.stringify(got)} truncateAt ${r.truncateAt}`)
    if (fs.statSync(file).size !== last) t.fail(`cut at ${cut}: not truncated`)
  }
  // A zero-filled tail (size extended, data never written) is also a torn tail.
  const file = path.join(dir, 'zeros.log')
  fs.writeFileSync(file, Buffer.concat([buf, Buffer.alloc(100)]))
  const r = new LogReader(realFs, file)
  t.same(seqs(r), [1, 2, 3, 4, 5, 6])
  t.equal(r.truncateAt, buf.length)
})

t.test('a flipped bit in a middle record is KV_CORRUPTION with file and offset', async (t) => {
  const dir = tempDir(t)
  const { buf, starts } = segment()
  for (let bit = starts[1]! * 8; bit < starts[2]! * 8; bit += 3) {
    const bad = Buffer.from(buf)
    bad[bit >> 3]! ^= 1 << (bit & 7)
    const file = path.join(dir, '000002.log')
    fs.writeFileSync(file, bad)
    let err: KvError | undefined
    try {
      seqs(new LogReader(realFs, file))
    } catch (e) {
      err = e as KvError
    }
    if (!isKvError(err, 'KV_CORRUPTION') || err.details['file'] !== file || err.details['offset'] !== starts[1]) {
      t.fail(`bit ${bit}: ${String(err)}`)
    }
  }
  t.pass('every flipped bit detected at the record offset')
})

t.test('with repair, the damaged record is skipped and reported', async (t) => {
  const file = path.join(tempDir(t), '000003.log')
  const { buf, starts } = segment()
  const bad = Buffer.from(buf)
  bad[starts[1]! + 12]! ^= 0x40
  fs.writeFileSync(file, bad)
  const r = new LogReader(realFs, file, { repair: true })
  t.same(seqs(r), [1, 2, 4, 5, 6])
  t.same(r.dropped.map((d) => [d.file, d.offset, d.bytesDropped]), [[file, starts[1], starts[2]! - starts[1]!]])
  t.match(dumpWal(file), /DAMAGE/)
})

t.test('damage running to the end of an older segment is corruption, not a torn tail', async (t) => {
  const file = path.join(tempDir(t), '000004.log')
  const { buf, starts } = segment()
  fs.writeFileSync(file, buf.subarray(0, buf.length - 1))
  const err = catchErr(() => seqs(new LogReader(realFs, file, { newest: false })))
  t.ok(isKvError(err, 'KV_CORRUPTION'))
  t.equal((err as KvError).details['offset'], starts[2])
  const r = new LogReader(realFs, file, { newest: false, repair: true })
  t.same(seqs(r), [1, 2, 3])
  t.equal(r.dropped[0]?.offset, starts[2])
})

t.test('an unknown payload version stops recovery with KV_UNSUPPORTED_VERSION', async (t) => {
  const file = path.join(tempDir(t), '000005.log')
  const payload = encodeGroupPayload(1, [put('a', 'b')])
  payload[0] = 9
  fs.writeFileSync(file, Buffer.concat([frameRecord(encodeGroupPayload(0, [])), frameRecord(payload)]))
  t.ok(isKvError(catchErr(() => seqs(new LogReader(realFs, file, { repair: true }))), 'KV_UNSUPPORTED_VERSION'))
})

t.test('dumpWal lists records and entries', async (t) => {
  const file = path.join(tempDir(t), '000006.log')
  fs.writeFileSync(file, Buffer.concat([segment().buf, frameRecord(encodeGroupPayload(7, [{ key: Buffer.from([0, 1]), seq: 0, kind: 2, expiresAtMs: 5, value: Buffer.from('x') }]))]))
  const out = dumpWal(file)
  t.match(out, /@0 record length=\d+ crc=ok firstSeq=1 count=2/)
  t.match(out, /seq=5 PUT key="e" value="five"/)
  t.match(out, /seq=7 PUT_TTL key=0x0001 expiresAtMs=5 value="x"/)
  t.match(out, /4 records, 7 entries/)
})
