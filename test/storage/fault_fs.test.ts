// FaultFs itself: what a simulated power cut keeps and loses, and the injected faults.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { FaultFs } from '../../lib/storage/fs/fault_fs'
import { makePrng } from '../../lib/util/prng'

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-faultfs-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('a crash cuts each file back to its synced length', async (t) => {
  const dir = tempDir(t)
  const ffs = new FaultFs()
  const p = path.join(dir, 'a.log')
  const f = ffs.openAppend(p, true)
  ffs.syncDir(dir)
  await f.append(Buffer.from('hello '))
  await f.sync()
  await f.append(Buffer.from('world'))
  t.equal(ffs.unsyncedBytes(p), 5)
  ffs.crash()
  t.equal(fs.readFileSync(p, 'utf8'), 'hello ')
  t.rejects(f.append(Buffer.from('x')), { code: 'EIO' }, 'the old handle died with the power')
  const g = ffs.openAppend(p, false)
  t.equal(g.size, 6)
  g.appendSync(Buffer.from('again'))
  g.syncSync()
  g.closeSync()
  ffs.crash()
  t.equal(fs.readFileSync(p, 'utf8'), 'hello again', 'synced bytes survive later crashes')
})

t.test('a torn crash keeps a seeded random prefix of the unsynced tail', async (t) => {
  const dir = tempDir(t)
  const lengths = new Set<number>()
  for (let seed = 0; seed < 20; seed++) {
    const ffs = new FaultFs()
    const p = path.join(dir, `${seed}.log`)
    const f = ffs.openAppend(p, true)
    ffs.syncDir(dir)
    f.appendSync(Buffer.from('0123456789'))
    f.syncSync()
    f.appendSync(Buffer.from('abcdefghij'))
    ffs.crash({ torn: true, prng: makePrng(seed) })
    const got = fs.readFileSync(p, 'utf8')
    if (!'0123456789abcdefghij'.startsWith(got) || got.length < 10) t.fail(`seed ${seed}: ${got}`)
    lengths.add(got.length)
  }
  t.ok(lengths.size > 3, `varied torn lengths: ${[...lengths].sort((a, b) => a - b).join(',')}`)
})

t.test('unsynced creations, renames and unlinks are undone; synced ones stay', async (t) => {
  const dir = tempDir(t)
  const ffs = new FaultFs()
  const a = path.join(dir, 'a')
  const b = path.join(dir, 'b')
  const c = path.join(dir, 'c')
  ffs.writeFileAtomic(a, Buffer.from('A1')) // durable: synced and dir synced
  const fc = ffs.openAppend(c, true)
  fc.appendSync(Buffer.from('C'))
  fc.syncSync()
  fc.closeSync()
  ffs.syncDir(dir)
  // Unsynced directory operations:
  const fb = ffs.openAppend(b, true)
  fb.appendSync(Buffer.from('B'))
  fb.syncSync()
  fb.closeSync()
  ffs.rename(c, path.join(dir, 'c2'))
  ffs.unlink(a)
  t.equal(ffs.unsyncedDirOps, 3)
  ffs.crash()
  t.same(fs.readdirSync(dir).sort(), ['a', 'c'])
  t.equal(fs.readFileSync(a, 'utf8'), 'A1')
  t.equal(fs.readFileSync(c, 'utf8'), 'C')
})

t.test('an unsynced rename over a file restores the replaced contents (CURRENT-style)', async (t) => {
  const dir = tempDir(t)
  const ffs = new FaultFs()
  const cur = path.join(dir, 'CURRENT')
  ffs.writeFileAtomic(cur, Buffer.from('MANIFEST-000001\n'))
  const tmp = ffs.openAppend(`${cur}.tmp`, true)
  tmp.appendSync(Buffer.from('MANIFEST-000002\n'))
  tmp.syncSync()
  tmp.closeSync()
  ffs.rename(`${cur}.tmp`, cur)
  ffs.crash()
  t.equal(fs.readFileSync(cur, 'utf8'), 'MANIFEST-000001\n')
  ffs.writeFileAtomic(cur, Buffer.from('MANIFEST-000003\n'))
  ffs.crash()
  t.equal(fs.readFileSync(cur, 'utf8'), 'MANIFEST-000003\n')
})

t.test('failNextSync fails one sync and syncs nothing', async (t) => {
  const dir = tempDir(t)
  const ffs = new FaultFs()
  const p = path.join(dir, 'x')
  const f = ffs.openAppend(p, true)
  ffs.syncDir(dir)
  await f.append(Buffer.from('abc'))
  ffs.failNextSync()
  await t.rejects(f.sync(), { code: 'EIO' })
  t.equal(ffs.unsyncedBytes(p), 3)
  await f.sync()
  t.equal(ffs.unsyncedBytes(p), 0)
  ffs.failNextSync()
  t.throws(() => ffs.syncDir(dir), { code: 'EIO' })
})

t.test('failWritesAfter lets the budget through, short-writes, then fails with ENOSPC', async (t) => {
  const dir = tempDir(t)
  const ffs = new FaultFs()
  const p = path.join(dir, 'x')
  const f = ffs.openAppend(p, true)
  ffs.failWritesAfter(5)
  await f.append(Buffer.from('abc'))
  await t.rejects(f.append(Buffer.from('defg')), { code: 'ENOSPC' })
  t.equal(fs.readFileSync(p, 'utf8'), 'abcde', 'the crossing write was short')
  await t.rejects(f.append(Buffer.from('h')), { code: 'ENOSPC' })
  ffs.clearFaults()
  await f.append(Buffer.from('h'))
  await f.close()
})
