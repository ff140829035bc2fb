// Damaged SSTables, through both readers: a flipped bit in a data block, the index, the filter,
// the properties or the footer is KV_CORRUPTION (an unknown format version is
// KV_UNSUPPORTED_VERSION), at open or at the first read of the block; never a wrong value.
// The exhaustive case flips one bit in every byte of a small table and checks every lookup.

import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { isKvError } from '../../../lib/errors'
import { Kind } from '../../../lib/storage/types'
import type { TableReader } from '../../../lib/storage/sstable/table_reader'
import { buildBytes, catchErr, type ModelEntry, openWith, readers, tmpDir } from './helpers'

function entries(n: number): ModelEntry[] {
  const out: ModelEntry[] = []
  for (let i = 0; i < n; i++) {
    out.push({ key: Buffer.from(`key${String(i).padStart(5, '0')}`), seq: 2 * i + 2, kind: Kind.Put, expiresAtMs: 0, value: Buffer.from(`value-${i}`) })
    if (i % 4 === 0) out.push({ key: Buffer.from(`key${String(i).padStart(5, '0')}`), seq: 2 * i + 1, kind: Kind.Del, expiresAtMs: 0, value: Buffer.alloc(0) })
  }
  return out
}

function flipped(bytes: Buffer, offset: number, bit = 0): Buffer {
  const out = Buffer.from(bytes)
  out[offset]! ^= 1 << bit
  return out
}

/** Every lookup either throws KV_CORRUPTION or returns exactly the right entry. */
function checkNoWrongValue(r: TableReader, model: readonly ModelEntry[]): { corrupt: number } {
  let corrupt = 0
  for (const m of model) {
    try {
      const g = r.get(m.key, m.seq)
      if (g === undefined || g.seq !== m.seq || g.kind !== m.kind || !g.value.equals(m.value)) throw new Error(`wrong answer for ${m.key}@${m.seq}`)
    } catch (err) {
      if (!isKvError(err, 'KV_CORRUPTION')) throw err
      corrupt++
    }
  }
  return { corrupt }
}

for (const reader of readers) {
  t.test(`${reader}: a flipped bit in each region is detected`, async (t) => {
    const dir = tmpDir(t)
    const model = entries(200)
    const good = buildBytes(model, { blockBytes: 256 })
    const file = path.join(dir, 't.sst')
    fs.writeFileSync(file, good)
    const r0 = openWith(file, reader)
    const { filter, properties, index } = r0.footer
    const block3 = { offset: r0.index.offsets[3]!, size: r0.index.sizes[3]! }
    const firstKeyOf3 = r0.index.key(2) // last key of block 2; block 3 starts after it
    r0.close()
    const size = good.length
    const openErr = (bytes: Buffer): unknown => {
      fs.writeFileSync(file, bytes)
      return catchErr(() => openWith(file, reader).close())
    }
    for (const [what, at] of [
      ['index block', index.offset + 3],
      ['index trailer', index.offset + index.size + 2],
      ['filter block', filter.offset + 5],
      ['properties block', properties.offset + 4],
      ['footer handle', size - 48],
      ['footer padding', size - 13],
      ['footer magic', size - 1],
    ] as const) {
      t.ok(isKvError(openErr(flipped(good, at, 3)), 'KV_CORRUPTION'), `${what}: KV_CORRUPTION at open`)
    }
    t.ok(isKvError(openErr(flipped(good, size - 12, 1)), 'KV_UNSUPPORTED_VERSION'), 'format version: KV_UNSUPPORTED_VERSION')
    t.ok(isKvError(openErr(good.subarray(0, size - 1)), 'KV_CORRUPTION'), 'truncated file')
    t.ok(isKvError(openErr(Buffer.alloc(10)), 'KV_CORRUPTION'), 'too short')

    // A data block: the table opens; the block fails on first read, naming file and offset.
    fs.writeFileSync(file, flipped(good, block3.offset + Math.floor(block3.size / 2), 5))
    const r = openWith(file, reader)
    t.teardown(() => r.close())
    const err = catchErr(() => {
      const it = r.iterator(false)
      for (it.seekToStart(); it.valid(); it.next());
    })
    t.ok(isKvError(err, 'KV_CORRUPTION'), 'a scan hits KV_CORRUPTION')
    if (isKvError(err)) {
      t.equal(err.details['file'], file)
      t.equal(err.details['offset'], block3.offset)
      t.match(err.message, String(block3.offset))
    }
    const k = Buffer.from(firstKeyOf3)
    k[k.length - 1]!++
    t.ok(isKvError(catchErr(() => r.get(k, 1e9)), 'KV_CORRUPTION'), 'a get in the block hits KV_CORRUPTION')
    const { corrupt } = checkNoWrongValue(r, model)
    t.ok(corrupt > 0, `lookups in the damaged block fail (${corrupt}); the rest answer correctly`)
  })

  t.test(`${reader}: one flipped bit anywhere never yields a wrong value`, async (t) => {
    const dir = tmpDir(t)
    const model = entries(12)
    const good = buildBytes(model, { blockBytes: 64 })
    const file = path.join(dir, 't.sst')
    let detected = 0
    for (let at = 0; at < good.length; at++) {
      fs.writeFileSync(file, flipped(good, at, at % 8))
      let r: TableReader
      try {
        r = openWith(file, reader)
      } catch (err) {
        if (!isKvError(err, 'KV_CORRUPTION') && !isKvError(err, 'KV_UNSUPPORTED_VERSION')) throw err
        detected++
        continue
      }
      if (checkNoWrongValue(r, model).corrupt > 0) detected++
      r.close()
    }
    t.equal(detected, good.length, `every one of ${good.length} flipped bytes was detected`)
  })

  t.test(`${reader}: a block is verified once per reader`, async (t) => {
    const file = path.join(tmpDir(t), 't.sst')
    fs.writeFileSync(file, buildBytes(entries(50), { blockBytes: 128 }))
    const r = openWith(file, reader)
    t.teardown(() => r.close())
    r.get(Buffer.from('key00001'), 1e9)
    r.get(Buffer.from('key00002'), 1e9)
    t.equal(r.stats.blocksVerified, 1)
    t.equal(r.stats.blockReads, 2)
  })
}
