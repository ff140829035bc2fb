// RingwoodLevel beyond abstract-level's suite: `{ sync: true }` reaches an fdatasync whatever the
// durability, data survives close and reopen (memtable and SSTables), the `ttlMs` put option,
// explicit snapshots, iterator batching (nextv / all chunks), and how errors are reported
// (KvError codes from the engine, LEVEL_* codes from abstract-level).

import fs from 'node:fs'
import t from 'tap'
import { RingwoodLevel } from '../../lib/level'
import { RealFs, type FileSystem } from '../../lib/storage'
import { ManualClock } from '../../lib/util/clock'
import { rejection, tempDir, thrown } from '../support/tmp'

/** A RealFs that counts syncs of commit-log segments (*.log). */
function countingFs(): { fs: FileSystem; logSyncs: () => number } {
  let n = 0
  const real = new RealFs()
  const counted = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'openAppend') {
        return (p: string, truncate: boolean) => {
          const file = target.openAppend(p, truncate)
          if (!p.endsWith('.log')) return file
          return new Proxy(file, {
            get(f, q) {
              const v = Reflect.get(f, q, f) as unknown
              if (typeof v !== 'function') return v
              if (q === 'sync' || q === 'syncSync') n++
              return (v as (...a: unknown[]) => unknown).bind(f)
            },
          })
        }
      }
      const v = Reflect.get(target, prop, receiver) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  }) as FileSystem
  return { fs: counted, logSyncs: () => n }
}

t.test('sync: true makes put, del and batch wait for a log sync under durability none', async (t) => {
  const { fs: countedFs, logSyncs } = countingFs()
  const db = new RingwoodLevel(tempDir(t), { durability: 'none', fs: countedFs })
  await db.open()
  await db.put('a', '1')
  await db.del('a')
  await db.batch([{ type: 'put', key: 'b', value: '2' }])
  t.equal(logSyncs(), 0, 'no sync without the option')
  await db.put('a', '1', { sync: true })
  t.equal(logSyncs(), 1, 'put')
  await db.del('a', { sync: true })
  t.equal(logSyncs(), 2, 'del')
  await db.batch([{ type: 'put', key: 'c', value: '3' }, { type: 'del', key: 'b' }], { sync: true })
  t.equal(logSyncs(), 3, 'batch')
  await db.batch().put('d', '4').write({ sync: true } as object)
  t.equal(logSyncs(), 4, 'chained batch')
  t.same(await db.keys().all(), ['c', 'd'])
  await db.close()
})

t.test('data survives close and reopen, from the memtable and from SSTables', async (t) => {
  const dir = tempDir(t)
  const value = 'v'.repeat(1000)
  const n = 300 // ~300 KB: several flushes at the smallest memtable
  let db = new RingwoodLevel(dir, { durability: 'none', memtableBytes: 64 * 1024 })
  await db.batch(Array.from({ length: n }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(4, '0')}`, value })))
  await db.del('k0007')
  await db.close()
  t.ok(fs.readdirSync(dir).some((f) => f.endsWith('.sst')), 'the data was flushed to SSTables')

  await db.open() // the same instance reopens
  t.equal(await db.get('k0000'), value)
  t.equal(await db.get('k0007'), undefined, 'a delete survives too')
  await db.put('late', 'x')
  await db.close()

  db = new RingwoodLevel(dir, { durability: 'none' })
  const keys = await db.keys().all()
  t.equal(keys.length, n, 'every key but the deleted one, plus late')
  t.equal(keys[0], 'k0000')
  t.equal(keys[keys.length - 1], 'late')
  t.same(await db.getMany(['k0299', 'k0007', 'late']), [value, undefined, 'x'])
  await db.close()
})

t.test('ttlMs on put and batch: the entry disappears once its time has passed', async (t) => {
  const clock = new ManualClock()
  const db = new RingwoodLevel(tempDir(t), { durability: 'none', clock })
  await db.put('short', 'a', { ttlMs: 1000 })
  await db.put('forever', 'b')
  await db.batch([
    { type: 'put', key: 'batch-default', value: 'c' },
    { type: 'put', key: 'batch-own', value: 'd', ttlMs: 5000 },
  ], { ttlMs: 1000 })
  const sub = db.sublevel('s')
  await sub.put('a', 'e', { ttlMs: 1000 } as object)
  t.same(await db.keys().all(), ['!s!a', 'batch-default', 'batch-own', 'forever', 'short'])
  clock.advance(1001)
  t.equal(await sub.get('a'), undefined, 'ttlMs passes through sublevels')
  t.equal(await db.get('short'), undefined, 'expired')
  t.equal(db.getSync('forever'), 'b')
  t.equal(await db.has('batch-default'), false, 'the batch-level ttlMs applies to its puts')
  t.equal(await db.get('batch-own'), 'd', "an operation's own ttlMs wins")
  t.same(await db.keys().all(), ['batch-own', 'forever'], 'iterators skip expired entries')
  clock.advance(5000)
  t.same(await db.keys().all(), ['forever'])
  t.equal((await rejection(db.put('k', 'v', { ttlMs: -5 })))?.code, 'KV_INVALID_ARGUMENT', 'a bad ttlMs is refused')
  t.equal(await db.get('k'), undefined, 'and nothing is written')
  await db.close()
})

t.test('explicit snapshots read a fixed point in time and must belong to the database', async (t) => {
  const db = new RingwoodLevel(tempDir(t), { durability: 'none' })
  const other = new RingwoodLevel(tempDir(t), { durability: 'none' })
  await Promise.all([db.open(), other.open()])
  await db.put('k', 'old')
  const snapshot = db.snapshot()
  await db.put('k', 'new')
  await db.put('k2', 'x')
  t.equal(await db.get('k', { snapshot }), 'old')
  t.same(await db.iterator({ snapshot }).all(), [['k', 'old']])
  t.equal(await db.get('k'), 'new')
  t.equal((await rejection(other.get('k', { snapshot })))?.code, 'KV_INVALID_ARGUMENT', 'a snapshot of another database')
  await snapshot.close()
  await Promise.all([db.close(), other.close()])
})

t.test('nextv() returns at most one chunk; all() reads every chunk', async (t) => {
  const db = new RingwoodLevel<string, Buffer>(tempDir(t), { durability: 'none', keyEncoding: 'utf8', valueEncoding: 'buffer' })
  const n = 2500
  await db.batch(Array.from({ length: n }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(5, '0')}`, value: Buffer.from([i & 0xff]) })))
  const it = db.iterator()
  const first = await it.nextv(5000)
  t.equal(first.length, 1000, 'capped at iteratorChunkEntriesMax')
  t.equal(first[0]![0], 'k00000')
  t.ok(Buffer.isBuffer(first[0]![1]), 'values in the asked encoding')
  const rest = await it.all()
  t.equal(rest.length, n - 1000, 'all() continues where nextv() stopped, across chunks')
  t.equal(rest[rest.length - 1]![0], `k0${n - 1}`)
  t.same(await db.keys({ reverse: true, limit: 3, lt: 'k00010' }).all(), ['k00009', 'k00008', 'k00007'])
  t.equal((await db.values({ limit: 1500 }).all()).length, 1500, 'all() honours the limit across chunks')
  await db.close()
})

t.test('errors: engine failures keep their KvError codes; misuse has LEVEL_* codes', async (t) => {
  const dir = tempDir(t)
  const db = new RingwoodLevel(dir, { durability: 'none' })
  await db.open()
  t.equal(await db.get('missing'), undefined, 'a missing key is undefined, not an error')
  t.equal((await rejection(db.put('x'.repeat(70 * 1024), 'v')))?.code, 'KV_INVALID_ARGUMENT', 'a key over keyBytesMax')

  const second = new RingwoodLevel(dir)
  const locked = (await rejection(second.open())) as { code?: string; cause?: { code?: string } }
  t.equal(locked.code, 'LEVEL_DATABASE_NOT_OPEN')
  t.equal(locked.cause?.code, 'KV_LOCKED', 'the cause says another engine holds the directory')

  const bad = new RingwoodLevel(tempDir(t), { durability: 'sometimes' as 'none' })
  const invalid = (await rejection(bad.open())) as { code?: string; cause?: { code?: string } }
  t.equal(invalid.cause?.code, 'KV_INVALID_ARGUMENT', 'engine options are validated at open')

  await db.close()
  t.equal((await rejection(db.get('k')))?.code, 'LEVEL_DATABASE_NOT_OPEN')
  t.equal(thrown(() => db.getSync('k'))?.code, 'LEVEL_DATABASE_NOT_OPEN')
  t.equal(thrown(() => new RingwoodLevel(''))?.code, 'KV_INVALID_ARGUMENT')
})

t.test('the manifest declares what the suite proves', async (t) => {
  const db = new RingwoodLevel(tempDir(t), { durability: 'none' })
  const s = db.supports
  for (const f of ['implicitSnapshots', 'explicitSnapshots', 'has', 'permanence', 'seek', 'createIfMissing', 'errorIfExists'] as const) {
    t.equal(s[f], true, f)
  }
  t.equal((s as unknown as { getSync: boolean }).getSync, true, 'getSync')
  t.equal(s.signals['iterators'], true, 'signals.iterators')
  t.ok(s.encodings['buffer'] && s.encodings['view'] && s.encodings['utf8'], 'native encodings')
  await db.close()
})
