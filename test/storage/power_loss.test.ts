// Simulated power cuts (FaultFs drops every byte not yet synced, and may tear the last write):
// after reopening, every write acknowledged under `sync` is there, and the contents are the
// state after a prefix of the write history. Also: a failed fsync or a full disk fails the
// write, is never acknowledged, and the engine refuses writes until reopened.

import t from 'tap'
import { Engine } from '../../lib/storage'
import { FaultFs, ioError } from '../../lib/storage/fs/fault_fs'
import { RealFs } from '../../lib/storage/fs/real_fs'
import { makePrng, seedFromEnv } from '../../lib/util/prng'
import { rejection, tempDir } from '../support/tmp'

const seed = seedFromEnv()
t.comment(`power-loss test seed: ${seed} (reproduce with RINGWOOD_SEED=${seed})`)

for (let round = 0; round < 4; round++) {
  t.test(`power cut ${round}: acknowledged sync writes survive, contents are a prefix`, async (t) => {
    const r = makePrng(seed + round)
    const dir = tempDir(t)
    const ffs = new FaultFs(new RealFs())
    const e = await Engine.open(dir, { fs: ffs, durability: 'none', memtableBytes: 64 * 1024, compactionInline: true })
    const history: { key: string; value: string | undefined }[] = []
    let lastSyncAcked = -1
    const pending: Promise<void>[] = []
    const total = r.range(200, 1500)
    for (let i = 0; i < total; i++) {
      const key = `k${r.int(200)}`
      const del = r.bool(0.15)
      const sync = r.bool(0.3)
      const value = del ? undefined : `v${i}-${'x'.repeat(r.int(300))}`
      history.push({ key, value })
      const p = del ? e.del(key, { sync }) : e.put(key, value!, { sync })
      pending.push(p.then(() => {
        if (sync) lastSyncAcked = Math.max(lastSyncAcked, i)
      }, () => undefined))
      if (r.bool(0.2)) await Promise.all(pending.splice(0))
    }
    await Promise.all(pending.splice(0, r.int(pending.length)))
    ffs.crash({ torn: r.bool(), prng: r })
    await e.close().catch(() => undefined)
    Engine.breakLock(dir)

    const back = await Engine.open(dir)
    const got = new Map<string, string>()
    const it = back.iterator()
    for (let kv = it.next(); kv; kv = it.next()) got.set(kv.key.toString(), kv.value.toString())
    it.close()
    let prefix = -1
    const state = new Map<string, string>()
    const same = (): boolean => state.size === got.size && [...state].every(([k, v]) => got.get(k) === v)
    if (same()) prefix = 0
    for (let i = 0; i < history.length; i++) {
      const h = history[i]!
      if (h.value === undefined) state.delete(h.key)
      else state.set(h.key, h.value)
      if (same()) prefix = i + 1
    }
    t.ok(prefix >= 0, `recovered contents equal the state after a prefix of ${history.length} writes`)
    t.ok(prefix > lastSyncAcked, `prefix ${prefix} covers the last acknowledged sync write ${lastSyncAcked}`)
    await back.close()
  })
}

t.test('a failed fsync fails the write and the engine refuses writes until reopened', async (t) => {
  const dir = tempDir(t)
  const ffs = new FaultFs(new RealFs())
  const e = await Engine.open(dir, { fs: ffs, durability: 'sync' })
  await e.put('before', '1')
  ffs.failNextSync(ioError('EIO', 'fsync failed'))
  t.equal((await rejection(e.put('lost', '2')))?.code, 'KV_IO_ERROR', 'the write is not acknowledged')
  t.equal((await rejection(e.put('after', '3')))?.code, 'KV_IO_ERROR', 'later writes are refused')
  t.equal(e.getSync('before')?.toString(), '1', 'reads keep working')
  t.equal(e.stats().failed, 'KV_IO_ERROR')
  await e.close()
  const back = await Engine.open(dir)
  t.equal(back.getSync('before')?.toString(), '1')
  await back.put('after', '3')
  t.equal(back.getSync('after')?.toString(), '3', 'a reopened engine accepts writes')
  await back.close()
})

t.test('disk full: the write fails with KV_IO_ERROR and is never acknowledged', async (t) => {
  const dir = tempDir(t)
  const ffs = new FaultFs(new RealFs())
  const e = await Engine.open(dir, { fs: ffs, durability: 'sync' })
  ffs.failWritesAfter(100)
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => e.put(`k${i}`, 'x'.repeat(50))))
  t.ok(results.some((x) => x.status === 'rejected'), 'writes past the space fail')
  for (const x of results) if (x.status === 'rejected') t.equal((x.reason as { code: string }).code, 'KV_IO_ERROR')
  t.equal((await rejection(e.put('later', 'x')))?.code, 'KV_IO_ERROR')
  await e.close()
})
