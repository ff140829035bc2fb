// The shared read cache (PROTOCOL.md §9.8): entries of any size, compaction and eviction within
// a bucket, objects too large for a bucket, the enabled flag, the seqlock (a bucket being
// written is a miss), and a writer thread racing a reader: no torn object is ever returned.

import t from 'tap'
import { Worker } from 'node:worker_threads'
import { RowCache, createReadCache, readCacheEntryBytesMax } from '../../lib/cluster'
import { readCacheBucketBytes } from '../../lib/constants'
import { seedFromEnv, makePrng } from '../../lib/util/prng'

const key = (s: string): Buffer => Buffer.from(s)
const str = (u: Uint8Array | undefined): string | undefined => (u === undefined ? undefined : Buffer.from(u).toString())

t.test('put, get, remove, clear; a hit is a copy', async (tt) => {
  const c = new RowCache(createReadCache(64 * 1024))
  tt.equal(c.buckets, 32, 'bucket count rounded down to a power of two')
  tt.equal(new RowCache(createReadCache(64 * 1024 - 1)).buckets, 16)
  tt.equal(c.enabled, false, 'a new cache is not enabled')
  c.setEnabled(true)
  tt.equal(c.enabled, true)
  c.put(7, key('a'), Buffer.from('object-a'))
  c.put(7, key('b'), Buffer.from('object-b')) // same hash, another key: another entry of the bucket
  tt.equal(str(c.get(7, key('a'))), 'object-a')
  tt.equal(str(c.get(7, key('b'))), 'object-b')
  tt.equal(c.get(8, key('a')), undefined, 'the hash is part of the match')
  tt.equal(c.get(7, key('ab')), undefined)
  const hit = c.get(7, key('a'))!
  hit.fill(0)
  tt.equal(str(c.get(7, key('a'))), 'object-a', 'a hit is a copy')
  c.put(7, key('a'), Buffer.from('newer'))
  tt.equal(str(c.get(7, key('a'))), 'newer', 'a put replaces the entry of its key')
  c.remove(7, key('a'))
  tt.equal(c.get(7, key('a')), undefined)
  tt.equal(str(c.get(7, key('b'))), 'object-b', 'remove takes only its key')
  c.put(7, key('b'), Buffer.alloc(readCacheEntryBytesMax - 1, 1))
  tt.equal(c.get(7, key('b'))?.length, readCacheEntryBytesMax - 1, 'a key plus object of readCacheEntryBytesMax is cached')
  c.put(7, key('b'), Buffer.alloc(readCacheEntryBytesMax))
  tt.equal(c.get(7, key('b')), undefined, 'an object too large for a bucket removes the entry')
  c.put(9, key('c'), Buffer.from('c'))
  c.clear()
  tt.equal(c.get(9, key('c')), undefined, 'clear empties every slot')
  tt.throws(() => createReadCache(100), { code: 'KV_INVALID_ARGUMENT' })
})

t.test('entries of every size in crowded buckets: compaction and eviction keep every cached key right', async (tt) => {
  const seed = seedFromEnv()
  tt.comment(`seed ${seed} (RINGWOOD_SEED=${seed} reproduces)`)
  const prng = makePrng(seed)
  const c = new RowCache(createReadCache(2 * readCacheBucketBytes))
  const model = new Map<string, Buffer>()
  let hits = 0
  for (let i = 0; i < 5000; i++) {
    const k = `k${prng.int(60)}`
    const h = prng.int(4) // two buckets, few hashes: buckets overflow
    const size = prng.bool(0.1) ? prng.int(readCacheEntryBytesMax + 100) : prng.int(200)
    const v = Buffer.alloc(size, i & 0xff)
    c.put(h, key(k), v)
    model.set(`${h}/${k}`, v)
    for (const probe of [`${h}/${k}`, [...model.keys()][prng.int(model.size)]!]) {
      const [ph, pk] = probe.split('/')
      const got = c.get(Number(ph), key(pk!))
      if (got === undefined) continue
      hits++
      if (!got.equals(model.get(probe)!)) {
        tt.fail(`wrong entry for ${probe} at step ${i}: ${got.length} bytes vs ${model.get(probe)!.length}`, { seed })
        return
      }
    }
    if (size + k.length <= readCacheEntryBytesMax && c.get(h, key(k)) === undefined) {
      tt.fail(`the entry just written is not cached (step ${i}, ${size} bytes)`, { seed })
      return
    }
  }
  tt.ok(hits > 2000, `${hits} hits, every one right`)
})

t.test('a bucket holds as many entries as its index and data area allow', async (tt) => {
  const held = (keys: number, objectBytes: number): number => {
    const c = new RowCache(createReadCache(readCacheBucketBytes))
    const k = (i: number): Buffer => key(`key${String(i).padStart(13, '0')}`) // 16 bytes
    for (let i = 0; i < keys; i++) c.put(i, k(i), Buffer.alloc(objectBytes, i))
    let n = 0
    for (let i = 0; i < keys; i++) if (c.get(i, k(i))?.equals(Buffer.alloc(objectBytes, i))) n++
    return n
  }
  tt.equal(held(20, 100), 15, '16-byte keys, 100-byte objects: the 15 index entries fill first')
  tt.equal(held(20, 200), 8, '16-byte keys, 200-byte objects: 8 entries of 224 bytes fill the 1920-byte data area')
  tt.equal(held(3, 900), 2, 'two entries of 924 bytes')
})

t.test('an entry whose bucket seq is odd (being written) is a miss', async (tt) => {
  const sab = createReadCache(64 * 1024)
  const c = new RowCache(sab)
  c.put(0, key('a'), Buffer.from('x'))
  const i32 = new Int32Array(sab)
  const w = 64 >> 2 // bucket 0
  Atomics.add(i32, w, 1)
  tt.equal(c.get(0, key('a')), undefined)
  Atomics.add(i32, w, 1)
  tt.equal(str(c.get(0, key('a'))), 'x')
})

t.test('a writer thread racing a reader never yields a torn object', async (tt) => {
  const sab = createReadCache(64 * 1024)
  const c = new RowCache(sab)
  // ctl[0]: the reader asks the writer to stop; ctl[1]: the writer has started.
  const ctl = new Int32Array(new SharedArrayBuffer(8))
  // The writer rewrites 6 keys of one bucket with objects whose bytes all equal one counter
  // byte; lengths vary (up to 600 bytes: the bucket compacts and evicts all the time). It runs
  // until the reader is done (at most 20 s), however slowly either thread starts on a busy machine.
  const src = `
    const { workerData, parentPort } = require('node:worker_threads')
    const { RowCache } = require(${JSON.stringify(require.resolve('../../lib/cluster'))})
    const c = new RowCache(workerData.sab)
    const ctl = workerData.ctl
    const until = Date.now() + 20000
    let n = 0
    while (Atomics.load(ctl, 0) === 0 && Date.now() < until) {
      for (let k = 0; k < 6; k++) {
        n++
        c.put(0, Buffer.from('key' + k), Buffer.alloc(20 + ((n * 37) % 580), n & 0xff))
      }
      if (n === 6) Atomics.store(ctl, 1, 1)
    }
    parentPort.postMessage(n)
  `
  const worker = new Worker(src, { eval: true, workerData: { sab, ctl } })
  const written = new Promise<number>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  const start = Date.now()
  while (Atomics.load(ctl, 1) === 0 && Date.now() - start < 10_000) await new Promise((r) => setTimeout(r, 5))
  let hits = 0
  let torn = 0
  const from = Date.now()
  // At least 250 ms and 2000 hits, at most 5 s.
  while (Date.now() - from < 5000 && (Date.now() - from < 250 || hits < 2000)) {
    for (let k = 0; k < 6; k++) {
      const v = c.get(0, Buffer.from('key' + k))
      if (v === undefined) continue
      hits++
      for (let i = 1; i < v.length; i++) if (v[i] !== v[0]) torn++
    }
  }
  Atomics.store(ctl, 0, 1)
  tt.ok((await written) > 0, 'the writer wrote')
  await worker.terminate()
  tt.equal(torn, 0, `no torn object in ${hits} hits`)
  tt.ok(hits > 0, 'the reader saw entries')
})

t.test('CLOCK: a key read between evictions stays cached while new keys churn its bucket', async (tt) => {
  const c = new RowCache(createReadCache(64 * 1024))
  for (let i = 0; i < 15; i++) c.put(5, key(`fill${i}`), Buffer.from('x'))
  c.put(5, key('hot'), Buffer.from('h')) // the index is full: evicts one of the fill keys
  let survived = 0
  for (let i = 0; i < 50; i++) {
    if (str(c.get(5, key('hot'))) === 'h') survived++
    c.put(5, key(`cold${i}`), Buffer.from('c'))
  }
  tt.equal(survived, 50, 'the hot key was never evicted')
  let cold = 0
  for (let i = 0; i < 50; i++) if (c.get(5, key(`cold${i}`)) !== undefined) cold++
  tt.equal(cold, 14, 'the bucket kept the 14 newest cold keys beside it')
})

t.test('holdsObject compares in place', async (tt) => {
  const c = new RowCache(createReadCache(64 * 1024))
  c.put(3, key('a'), Buffer.from('same'))
  tt.equal(c.holdsObject(3, key('a'), Buffer.from('same')), true)
  tt.equal(c.holdsObject(3, key('a'), Buffer.from('sam')), false, 'another length')
  tt.equal(c.holdsObject(3, key('a'), Buffer.from('samE')), false, 'another byte')
  tt.equal(c.holdsObject(3, key('b'), Buffer.from('same')), false, 'another key')
})

t.test('prefetching reads only inside the bucket and changes nothing, whatever a torn bucket holds', async (tt) => {
  const seed = seedFromEnv()
  tt.comment(`seed ${seed} (RINGWOOD_SEED=${seed} reproduces)`)
  const prng = makePrng(seed)
  const sab = createReadCache(2 * readCacheBucketBytes)
  const c = new RowCache(sab)
  c.put(1, key('a'), Buffer.from('object-a'))
  tt.ok(c.prefetchEntry(1) > 0, 'the entry of a cached key is found (its first byte, the key length, is 1)')
  const u8 = new Uint8Array(sab)
  const dv = new DataView(sab)
  const last = 64 + readCacheBucketBytes // the last bucket: a read past it would be past the buffer
  for (let i = 0; i < 2000; i++) {
    for (let j = last; j < u8.length; j++) u8[j] = prng.int(256)
    const hash = prng.int(2 ** 31) * 2 + 1 // odd: the last of two buckets
    u8[last + 4] = prng.bool(0.8) ? prng.int(16) : prng.int(256) // count, sometimes past 15
    const at = last + 8 + 8 * prng.int(15)
    dv.setInt32(at, hash | 0, true) // an index entry naming the hash, at a random offset
    if (prng.bool(0.5)) dv.setUint16(at + 4, readCacheBucketBytes - prng.int(300), true)
    const before = Buffer.from(u8)
    // An index read past the buffer gives undefined, and the sum NaN.
    const loaded = c.prefetchBucket(hash) + c.prefetchEntry(hash)
    if (!Number.isFinite(loaded)) return tt.fail(`read outside the buffer (seed ${seed}, round ${i})`)
    if (!before.equals(u8)) return tt.fail(`prefetching changed the buffer (seed ${seed}, round ${i})`)
  }
  tt.pass('2000 torn buckets prefetched')
})

t.test('a writer that died with a bucket open leaves it a miss; the next write empties it and restores the parity', async (tt) => {
  const sab = createReadCache(64 * 1024)
  const c = new RowCache(sab)
  c.put(0, key('a'), Buffer.from('x'))
  const i32 = new Int32Array(sab)
  c.put(0, key('b'), Buffer.from('b'))
  Atomics.add(i32, 64 >> 2, 1) // opened, never closed
  new Uint8Array(sab)[64 + 4] = 200 // and its count torn
  tt.equal(c.get(0, key('a')), undefined, 'an open bucket is a miss')
  const restarted = new RowCache(sab)
  restarted.put(0, key('a'), Buffer.from('y'))
  tt.equal(str(restarted.get(0, key('a'))), 'y', 'a write after it is read again')
  tt.equal(restarted.get(0, key('b')), undefined, 'the bucket was emptied first')
  Atomics.add(i32, 64 >> 2, 1)
  restarted.clear()
  restarted.put(0, key('a'), Buffer.from('z'))
  tt.equal(str(restarted.get(0, key('a'))), 'z', 'so is one after a clear')
})

t.test('with checksums on, bytes changed behind the seqlock are a miss', async (tt) => {
  const sab = createReadCache(64 * 1024)
  const c = new RowCache(sab, true)
  c.put(0, key('a'), Buffer.from('object'))
  tt.equal(str(c.get(0, key('a'))), 'object')
  tt.equal(c.holdsObject(0, key('a'), Buffer.from('object')), true)
  const u8 = new Uint8Array(sab)
  const first = 64 + 128 + 8 + 1 // bucket 0: its header and index, the entry's header, key 'a'
  u8[first] = u8[first]! ^ 0xff
  tt.equal(c.get(0, key('a')), undefined, 'get misses')
  tt.equal(new RowCache(sab, false).get(0, key('a'))?.length, 6, 'without checksums the change is not seen (x86-64 relies on ordering)')
})

t.test("the node's own lookup: a copy of what it wrote, and no CLOCK mark", async (tt) => {
  const c = new RowCache(createReadCache(readCacheBucketBytes)) // one bucket
  for (let i = 0; i < 15; i++) c.put(i, key(`k${i}`), Buffer.from(`v${i}`)) // the index is full
  const own = c.getOwn(1, key('k1'))!
  tt.equal(str(own), 'v1')
  own.fill(0)
  tt.equal(str(c.getOwn(1, key('k1'))), 'v1', 'a copy')
  tt.equal(c.getOwn(1, key('k2')), undefined, 'the hash is part of the match')
  tt.equal(str(c.get(0, key('k0'))), 'v0') // the caller's hit marks k0
  c.put(99, key('new'), Buffer.from('n')) // evicts: the hand passes k0 (marked), stops at k1
  tt.equal(c.getOwn(1, key('k1')), undefined, "k1, looked up only by the node, was evicted")
  tt.equal(str(c.getOwn(0, key('k0'))), 'v0', 'k0, hit by the caller, stayed')
  tt.equal(str(c.getOwn(2, key('k2'))), 'v2')
})
