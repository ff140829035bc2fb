// Damage on disk, seen through the whole engine: a flipped bit in the middle of the commit log
// is KV_CORRUPTION naming file and offset (or, with `repair`, skipped and reported); a torn
// tail is cut off; a flipped bit in an SSTable block makes reads of that block fail with
// KV_CORRUPTION, never return a wrong value; `ringwood check` reports all of it.

import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Engine } from '../../lib/storage'
import { checkDirectory } from '../../lib/storage/checker'
import { ManualClock } from '../../lib/util/clock'
import { rejection, tempDir } from '../support/tmp'

function files(dir: string, ext: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith(ext)).map((n) => path.join(dir, n))
}

function flipBit(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+')
  const b = Buffer.alloc(1)
  fs.readSync(fd, b, 0, 1, offset)
  b[0]! ^= 0x10
  fs.writeSync(fd, b, 0, 1, offset)
  fs.closeSync(fd)
}

async function writeLog(dir: string, n: number): Promise<void> {
  const e = await Engine.open(dir, { durability: 'sync' })
  for (let i = 0; i < n; i++) await e.put(`key${i}`, `value${i}`)
  await e.close()
}

t.test('a flipped bit in the middle of the log: KV_CORRUPTION with file and offset; repair skips it', async (t) => {
  const dir = tempDir(t)
  await writeLog(dir, 100)
  const log = files(dir, '.log').sort().at(-1)!
  const size = fs.statSync(log).size
  flipBit(log, Math.floor(size / 2))
  const err = (await rejection(Engine.open(dir))) as { code?: string; details?: { file?: string; offset?: number } }
  t.equal(err?.code, 'KV_CORRUPTION')
  t.equal(err?.details?.file, log, 'the error names the file')
  t.type(err?.details?.offset, 'number', 'and the offset')
  t.notOk(checkDirectory(dir).ok, 'check reports the damage')
  const e = await Engine.open(dir, { repair: true })
  t.equal(e.repairReport.dropped.length, 1, 'one damaged record was skipped')
  t.equal(e.repairReport.dropped[0]!.file, log)
  let present = 0
  for (let i = 0; i < 100; i++) {
    const v = e.getSync(`key${i}`)
    if (v !== undefined) {
      t.equal(v.toString(), `value${i}`, 'never a wrong value')
      present++
    }
  }
  t.equal(present, 99, 'only the damaged record is lost')
  await e.close()
})

t.test('a flipped bit in the last record: a torn tail, cut off at open', async (t) => {
  const dir = tempDir(t)
  await writeLog(dir, 50)
  const log = files(dir, '.log').sort().at(-1)!
  flipBit(log, fs.statSync(log).size - 3)
  const e = await Engine.open(dir)
  t.equal(e.repairReport.truncated.length, 1)
  t.equal(e.getSync('key49'), undefined, 'the torn write is gone')
  t.equal(e.getSync('key48')?.toString(), 'value48', 'everything before it is there')
  await e.close()
})

t.test('a flipped bit in an SSTable data block: KV_CORRUPTION on read, never a wrong value', async (t) => {
  const dir = tempDir(t)
  const e = await Engine.open(dir, { compactionInline: true })
  for (let i = 0; i < 2000; i++) await e.put(`key${String(i).padStart(5, '0')}`, `value${i}`.repeat(4))
  await e.compactAll()
  await e.close()
  t.ok(checkDirectory(dir).ok, 'check passes before the damage')
  const sst = files(dir, '.sst')[0]!
  flipBit(sst, 100)
  const report = checkDirectory(dir)
  t.notOk(report.ok, 'check finds the damaged block')
  t.match(report.problems.join('\n'), /sst/)
  const back = await Engine.open(dir)
  let corrupt = 0
  for (let i = 0; i < 2000; i++) {
    try {
      const v = back.getSync(`key${String(i).padStart(5, '0')}`)
      t.equal(v?.toString(), `value${i}`.repeat(4))
    } catch (err) {
      t.equal((err as { code?: string }).code, 'KV_CORRUPTION')
      corrupt++
    }
  }
  t.ok(corrupt > 0 && corrupt < 2000, `reads of the damaged block fail (${corrupt}), the rest succeed`)
  await back.close()
})

t.test('a compaction that fails on a damaged table fails the engine once; no job starts again', async (t) => {
  const dir = tempDir(t)
  const clock = new ManualClock()
  const e = await Engine.open(dir, { compactionInline: true, clock })
  for (let i = 0; i < 2000; i++) await e.put(`key${String(i).padStart(5, '0')}`, `value${i}`.repeat(4), { ttlMs: 1000 })
  await e.compactAll()
  await e.close()
  flipBit(files(dir, '.sst')[0]!, 100)
  const back = await Engine.open(dir, { compactionInline: true, clock })
  clock.advance(1000) // every TTL passed: a garbage compaction of the damaged table starts
  let turns = 0
  while (back.stats().backgroundBusy && turns < 10_000) {
    await new Promise((resolve) => setImmediate(resolve))
    turns++
  }
  t.equal(back.stats().backgroundBusy, false, `background work stopped after the failure (${turns} turns)`)
  t.equal((await rejection(back.put('k', 'v')))?.code, 'KV_CORRUPTION', 'the engine refuses writes')
  t.equal((await rejection(back.compactAll()))?.code, 'KV_CORRUPTION', 'and a full compaction')
  t.equal(back.stats().compactions, 0)
  await back.close()
})
