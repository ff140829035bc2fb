// The vnode store's side of the read cache (PROTOCOL.md §9.8): the cache holds for a key either
// nothing or what a read would answer, also when engine writes fail or finish out of order.
// The engine here is a stand-in whose puts complete when the test says (the real engine's
// ordering is tested in test/storage); only the store's bookkeeping is under test.

import t from 'tap'
import type { Engine } from '../../lib/storage'
import { RowCache, createReadCache, decodeObject, ringHash } from '../../lib/cluster'
import { VnodeStore } from '../../lib/cluster/node/vnode_store'
import { ManualClock } from '../../lib/util/clock'
import { KvError } from '../../lib/errors'

class HeldEngine {
  readonly data = new Map<string, Buffer>()
  readonly pending: { key: Buffer; value: Buffer; resolve: () => void; reject: (e: unknown) => void }[] = []
  getSync(key: Buffer): Buffer | undefined {
    return this.data.get(key.toString('latin1'))
  }
  put(key: Buffer, value: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.pending.push({ key, value, resolve, reject }))
  }
  /** Completes pending put i: applied (ok) or failed. */
  complete(i: number, ok: boolean): void {
    const p = this.pending[i]!
    if (ok) {
      this.data.set(p.key.toString('latin1'), p.value)
      p.resolve()
    } else p.reject(new KvError('KV_IO_ERROR', 'disk full'))
  }
}

const value = (b: Buffer | undefined): string | undefined => (b === undefined ? undefined : decodeObject(b).siblings.map((s) => s.value.toString()).join(','))

t.test('a failed write empties the entry; reads do not publish while a write of the key is in flight', async (tt) => {
  const engine = new HeldEngine()
  const cache = new RowCache(createReadCache(64 * 1024))
  const store = new VnodeStore(engine as unknown as Engine, { kind: 'lww' }, 1, new ManualClock(), { cache })
  const key = Buffer.from('k')
  const hash = ringHash(key)
  const write = (v: string): Promise<unknown> => store.write(3, { key, value: Buffer.from(v), ttlMs: undefined, context: undefined })

  const x = write('X')
  engine.complete(0, true)
  await x
  const a = write('A')
  tt.equal(value(cache.get(hash, key)), 'A', 'a write publishes its object at once')
  const b = write('B')
  tt.equal(value(cache.get(hash, key)), 'B')
  engine.complete(2, false) // B fails while A is still on its way
  await b.catch(() => undefined)
  tt.equal(cache.get(hash, key), undefined, 'a failed write empties the entry')
  tt.equal(value(store.read(3, key)), 'A', 'a read answers A, still on its way (the engine holds X): a write now builds on A and never reuses its dot')
  tt.equal(cache.get(hash, key), undefined, 'and a read while A is in flight does not publish it')
  engine.complete(1, true)
  await a
  tt.equal(cache.get(hash, key), undefined, 'A finishing publishes nothing by itself')
  tt.equal(value(store.read(3, key)), 'A')
  tt.equal(value(cache.get(hash, key)), 'A', 'the next read publishes what the engine holds')
})

t.test('a write that fails while an earlier one of the key is on its way: the next write builds on the earlier one', async (tt) => {
  const engine = new HeldEngine()
  const store = new VnodeStore(engine as unknown as Engine, { kind: 'siblings' }, 1, new ManualClock())
  const key = Buffer.from('k')
  const write = (v: string): Promise<{ object: Buffer }> => store.write(3, { key, value: Buffer.from(v), ttlMs: undefined, context: undefined })
  const dots = (b: Buffer | undefined): number[] => (b === undefined ? [] : decodeObject(b).siblings.map((x) => x.dot.counter))
  const a = write('A')
  const b = write('B')
  engine.complete(1, false) // B fails first; A is still held (a write stall)
  await b.catch(() => undefined)
  const c = write('C')
  engine.complete(0, true)
  engine.complete(2, true)
  await a
  const stored = (await c).object
  tt.same(dots(stored), [1, 2], 'C is a sibling of A with the next dot, not a second dot 1')
  tt.equal(value(stored), 'A,C')
})

t.test('the store reads a key of a published partition from its cache before the engine', async (tt) => {
  const engine = new HeldEngine()
  let engineReads = 0
  const getSync = engine.getSync.bind(engine)
  engine.getSync = (key: Buffer): Buffer | undefined => {
    engineReads++
    return getSync(key)
  }
  const cache = new RowCache(createReadCache(64 * 1024))
  const published = new Uint8Array(8)
  published[3] = 1
  const store = new VnodeStore(engine as unknown as Engine, { kind: 'siblings' }, 1, new ManualClock(), { cache, cachedPartitions: published })
  const key = Buffer.from('k')
  const write = async (p: number, v: string, context?: Buffer): Promise<Buffer> => {
    const w = store.write(p, { key, value: Buffer.from(v), ttlMs: undefined, context })
    engine.complete(engine.pending.length - 1, true)
    return (await w).context
  }

  const ctx = await write(3, 'A')
  engineReads = 0
  await write(3, 'B', ctx)
  tt.equal(engineReads, 0, 'a write of a cached key does not read the engine')
  let cachePuts = 0
  const put = cache.put.bind(cache)
  cache.put = (h: number, k: Uint8Array, o: Uint8Array): void => {
    cachePuts++
    put(h, k, o)
  }
  tt.equal(value(store.read(3, key)), 'B')
  tt.equal(cachePuts, 0, 'a read answered from the cache does not write it again')
  // Another replica's concurrent write (replica id 2) merged here: stored as a sibling.
  const otherEngine = new HeldEngine()
  const other = new VnodeStore(otherEngine as unknown as Engine, { kind: 'siblings' }, 2, new ManualClock())
  const written = other.write(3, { key, value: Buffer.from('O'), ttlMs: undefined, context: undefined })
  otherEngine.complete(0, true)
  const merging = store.merge(3, key, (await written).object, 'replica')
  engine.complete(engine.pending.length - 1, true)
  await merging
  tt.equal(engineReads, 0, 'nor do a read and a replica write that stores')
  tt.equal(cachePuts, 1, 'which publishes its merge')
  tt.equal(value(store.read(3, key)), 'B,O')

  cache.remove(ringHash(key), key) // evicted
  tt.equal(value(store.read(3, key)), 'B,O', 'a key not in the cache is read from the engine')
  tt.equal(engineReads, 1)
  tt.equal(value(cache.get(ringHash(key), key)), 'B,O', 'and published again')

  await write(5, 'C')
  engineReads = 0
  await write(5, 'D')
  tt.equal(engineReads, 1, 'a partition the node does not publish is read from the engine')
  tt.equal(value(store.read(5, key)), 'C,D', 'two writes without context are siblings: the second read the first')
})

t.test('an engine put that throws instead of rejecting fails the write and leaves nothing on its way', async (tt) => {
  const engine = new HeldEngine()
  const cache = new RowCache(createReadCache(64 * 1024))
  const store = new VnodeStore(engine as unknown as Engine, { kind: 'lww' }, 1, new ManualClock(), { cache })
  const key = Buffer.from('k')
  const write = (v: string): Promise<unknown> => store.write(3, { key, value: Buffer.from(v), ttlMs: undefined, context: undefined })
  const x = write('X')
  engine.complete(0, true)
  await x
  const put = engine.put.bind(engine)
  engine.put = (): Promise<void> => {
    throw new KvError('KV_IO_ERROR', 'cannot open the next log segment')
  }
  await tt.rejects(write('Y'), { code: 'KV_IO_ERROR' })
  tt.equal(cache.get(ringHash(key), key), undefined, 'the entry is emptied')
  tt.equal(value(store.read(3, key)), 'X', 'a read answers what the engine holds, not the failed write')
  engine.put = put
  const z = write('Z')
  engine.complete(1, true)
  await z
  tt.equal(value(store.read(3, key)), 'Z')
})
