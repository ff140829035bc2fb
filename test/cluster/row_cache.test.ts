// The shared read cache (PROTOCOL.md §9.8): entries, eviction within a set, objects too large
// for a slot, the enabled flag, the seqlock (an entry being written is a miss), and a writer
// thread racing a reader: no torn object is ever returned.

import t from 'tap'
import { Worker } from 'node:worker_threads'
import { RowCache, createReadCache } from '../../lib/cluster'
import { readCacheSlotBytes } from '../../lib/constants'
import { seedFromEnv, makePrng } from '../../lib/util/prng'

const key = (s: string): Buffer => Buffer.from(s)
const str = (u: Uint8Array | undefined): string | undefined => (u === undefined ? undefined : Buffer.from(u).toString())

t.test('put, get, remove, clear; a hit is a copy', async (tt) => {
  const c = new RowCache(createReadCache(64 * 1024))
  tt.equal(c.slots, 128, 'slot count rounded down to a power of two')
  tt.equal(c.enabled, false, 'a new cache is not enabled')
  c.setEnabled(true)
  tt.equal(c.enabled, true)
  c.put(7, key('a'), Buffer.from('object-a'))
  c.put(7, key('b'), Buffer.from('object-b')) // same hash, another key: another way of the set
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
  c.put(7, key('b'), Buffer.alloc(readCacheSlotBytes))
  tt.equal(c.get(7, key('b')), undefined, 'an object too large for a slot empties the entry')
  c.put(9, key('c'), Buffer.from('c'))
  c.clear()
  tt.equal(c.get(9, key('c')), undefined, 'clear empties every slot')
  tt.throws(() => createReadCache(100), { code: 'KV_INVALID_ARGUMENT' })
})

t.test('a full set evicts one way at a time; every key still cached reads back right', async (tt) => {
  const seed = seedFromEnv()
  tt.comment(`seed ${seed} (RINGWOOD_SEED=${seed} reproduces)`)
  const prng = makePrng(seed)
  const c = new RowCache(createReadCache(16 * readCacheSlotBytes + 64))
  const model = new Map<string, string>()
  for (let i = 0; i < 2000; i++) {
    const k = `k${prng.int(40)}`
    const h = prng.int(8) // few hashes: sets overflow
    const v = `v${i}`
    c.put(h, key(k), Buffer.from(v))
    model.set(`${h}/${k}`, v)
    const probe = [...model.keys()][prng.int(model.size)]!
    const [ph, pk] = probe.split('/')
    const got = c.get(Number(ph), key(pk!))
    if (got !== undefined && str(got) !== model.get(probe)) {
      tt.fail(`stale entry for ${probe}: ${str(got)} vs ${model.get(probe)}`, { seed })
      return
    }
  }
  tt.pass('no stale entry')
})

t.test('an entry whose seq is odd (being written) is a miss', async (tt) => {
  const sab = createReadCache(64 * 1024)
  const c = new RowCache(sab)
  c.put(0, key('a'), Buffer.from('x'))
  const i32 = new Int32Array(sab)
  const w = 64 >> 2 // set 0, way 0
  Atomics.add(i32, w, 1)
  tt.equal(c.get(0, key('a')), undefined)
  Atomics.add(i32, w, 1)
  tt.equal(str(c.get(0, key('a'))), 'x')
})

t.test('a writer thread racing a reader never yields a torn object', async (tt) => {
  const sab = createReadCache(64 * 1024)
  const c = new RowCache(sab)
  // The writer rewrites 4 keys with objects whose bytes all equal one counter byte, and lengths vary.
  const src = `
    const { workerData, parentPort } = require('node:worker_threads')
    const { RowCache } = require(${JSON.stringify(require.resolve('../../lib/cluster'))})
    const c = new RowCache(workerData.sab)
    const until = Date.now() + workerData.ms
    let n = 0
    while (Date.now() < until) {
      for (let k = 0; k < 4; k++) {
        n++
        c.put(k, Buffer.from('key' + k), Buffer.alloc(20 + (n % 200), n & 0xff))
      }
    }
    parentPort.postMessage(n)
  `
  const worker = new Worker(src, { eval: true, workerData: { sab, ms: 300 } })
  const written = new Promise<number>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  let hits = 0
  let torn = 0
  const until = Date.now() + 250
  while (Date.now() < until) {
    for (let k = 0; k < 4; k++) {
      const v = c.get(k, Buffer.from('key' + k))
      if (v === undefined) continue
      hits++
      for (let i = 1; i < v.length; i++) if (v[i] !== v[0]) torn++
    }
  }
  tt.ok((await written) > 0, 'the writer wrote')
  await worker.terminate()
  tt.equal(torn, 0, `no torn object in ${hits} hits`)
  tt.ok(hits > 0, 'the reader saw entries')
})

t.test('CLOCK: a key read between evictions stays cached while new keys churn its set', async (tt) => {
  const c = new RowCache(createReadCache(64 * 1024))
  for (let i = 0; i < 4; i++) c.put(5, key(`fill${i}`), Buffer.from('x'))
  c.put(5, key('hot'), Buffer.from('h')) // evicts one of the fill keys
  let survived = 0
  for (let i = 0; i < 50; i++) {
    if (str(c.get(5, key('hot'))) === 'h') survived++
    c.put(5, key(`cold${i}`), Buffer.from('c'))
  }
  tt.equal(survived, 50, 'the hot key was never evicted')
})

t.test('holdsObject compares in place', async (tt) => {
  const c = new RowCache(createReadCache(64 * 1024))
  c.put(3, key('a'), Buffer.from('same'))
  tt.equal(c.holdsObject(3, key('a'), Buffer.from('same')), true)
  tt.equal(c.holdsObject(3, key('a'), Buffer.from('sam')), false, 'another length')
  tt.equal(c.holdsObject(3, key('a'), Buffer.from('samE')), false, 'another byte')
  tt.equal(c.holdsObject(3, key('b'), Buffer.from('same')), false, 'another key')
})

t.test('a writer that died with a slot open leaves it a miss, and the next write or clear restores the parity', async (tt) => {
  const sab = createReadCache(64 * 1024)
  const c = new RowCache(sab)
  c.put(0, key('a'), Buffer.from('x'))
  const i32 = new Int32Array(sab)
  Atomics.add(i32, 64 >> 2, 1) // opened, never closed
  tt.equal(c.get(0, key('a')), undefined, 'an open slot is a miss')
  const restarted = new RowCache(sab)
  restarted.put(0, key('a'), Buffer.from('y'))
  tt.equal(str(restarted.get(0, key('a'))), 'y', 'a write after it is read again')
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
  u8[64 + 20 + 1] = u8[64 + 20 + 1]! ^ 0xff // the first object byte of set 0, way 0 (header 20, key 'a')
  tt.equal(c.get(0, key('a')), undefined, 'get misses')
  tt.equal(new RowCache(sab, false).get(0, key('a'))?.length, 6, 'without checksums the change is not seen (x86-64 relies on ordering)')
})
