// Dead objects (PROTOCOL.md §4.5): an object whose every sibling is a tombstone or expires is
// stored as an engine TTL entry that disappears tombstoneGraceMs after it died, version vector
// and all; client writes take counters above the node's floor, so no dot is reused once the
// object is gone; the floor survives a graceful stop, and an unclean stop takes a new
// incarnation. Real engines on a manual clock.

import t, { type Test } from 'tap'
import { Engine } from '../../lib/storage'
import { decodeContext, decodeObject, encodeObject, RowCache, createReadCache, ringHash } from '../../lib/cluster'
import { staleReplicas } from '../../lib/cluster/coordinator/read_repair'
import { deadAtMs, update, type DvvObject, type Sibling } from '../../lib/cluster/versioning/dvv_object'
import { VnodeStore } from '../../lib/cluster/node/vnode_store'
import { dataKey } from '../../lib/cluster/node/storage_keys'
import { closeNode, openNode } from '../../lib/cluster/node/node_identity'
import { ManualClock } from '../../lib/util/clock'
import { makePrng, seedFromEnv } from '../../lib/util'
import { rejection, soakBudget, tempDir } from '../support/tmp'
import { testCluster, sleep } from '../db/cluster_support'
import { open } from '../../lib'

const sib = (counter: number, o: Partial<Sibling>): Sibling => ({ dot: { replica: 1, counter }, timestampMs: 100, expiresAtMs: 0, tombstone: false, value: Buffer.from('v'), ...o })
const obj = (...siblings: Sibling[]): DvvObject => ({ vv: [{ replica: 1, counter: siblings.length }], siblings })

t.test('deadAtMs: the latest tombstone or expiry when every sibling has one; else never (0)', async (tt) => {
  tt.equal(deadAtMs(obj(sib(1, {}))), 0, 'a live value that never expires')
  tt.equal(deadAtMs(obj(sib(1, { expiresAtMs: 500 }))), 500)
  tt.equal(deadAtMs(obj(sib(1, { tombstone: true, value: Buffer.alloc(0), timestampMs: 300 }))), 300)
  tt.equal(deadAtMs(obj(sib(1, { tombstone: true, value: Buffer.alloc(0), timestampMs: 300 }), sib(2, { expiresAtMs: 900 }))), 900)
  tt.equal(deadAtMs(obj(sib(1, { expiresAtMs: 900 }), sib(2, {}))), 0, 'one sibling that never expires keeps the object')
  tt.equal(deadAtMs({ vv: [], siblings: [] }), 0)
})

t.test('update: a new dot is above the counter floor', async (tt) => {
  const s = { timestampMs: 1, expiresAtMs: 0, tombstone: false, value: Buffer.from('x') }
  tt.equal(update({ vv: [], siblings: [] }, { vv: [], dots: [] }, 7, s, 41).dot.counter, 42)
  tt.equal(update({ vv: [{ replica: 7, counter: 50 }], siblings: [] }, { vv: [], dots: [] }, 7, s, 41).dot.counter, 51, 'the stored vv when higher')
})

const grace = 10_000

async function setup(tt: Test, cache?: RowCache): Promise<{ engine: Engine; store: VnodeStore; clock: ManualClock }> {
  const clock = new ManualClock()
  const engine = await Engine.open(tempDir(tt), { clock, compactionInline: true })
  tt.teardown(() => engine.close())
  return { engine, store: new VnodeStore(engine, { kind: 'siblings' }, 1, clock, { tombstoneGraceMs: grace, cache }), clock }
}

const key = Buffer.from('k')
const dotOf = (o: { object: Buffer }): number => decodeObject(o.object).siblings.at(-1)!.dot.counter

t.test('an expired value is dropped, vv and all, tombstoneGraceMs after it expired; the next write does not reuse its dots', async (tt) => {
  const { engine, store, clock } = await setup(tt)
  const ttlWrite = (v: string) => store.write(2, { key, value: Buffer.from(v), ttlMs: 1000, context: undefined })
  for (let i = 0; i < 3; i++) await ttlWrite(`v${i}`)
  tt.equal(store.counterFloor, 3, 'the floor follows the expiring object')
  clock.advance(1000 + grace - 1)
  tt.not(store.stored(2, key), undefined, 'kept through the grace period')
  clock.advance(1)
  tt.equal(store.stored(2, key), undefined, 'gone once the grace has passed')
  await engine.compactAll()
  tt.equal(engine.stats().tableBytes, 0, 'and compaction removes it')
  const w = await store.write(2, { key, value: Buffer.from('new'), ttlMs: undefined, context: undefined })
  tt.equal(dotOf(w), 4, 'a fresh dot above every dot the dropped object held (it would be 1 without the floor)')
  tt.equal(store.counterFloor, 3, 'a value that never expires does not move the floor')
  clock.advance(100 * grace)
  tt.not(store.stored(2, key), undefined, 'and is never dropped')
})

t.test('a stale copy merged after the drop does not lower the next dot', async (tt) => {
  const { store, clock } = await setup(tt)
  const stale = await store.write(5, { key, value: Buffer.from('a'), ttlMs: undefined, context: undefined })
  let context = stale.context
  for (let i = 0; i < 4; i++) context = (await store.write(5, { key, value: Buffer.from('b'), ttlMs: 10, context })).context
  tt.equal(store.counterFloor, 5, 'each write replaced the last: the object is dead from its expiry')
  clock.advance(10 + grace)
  tt.equal(store.stored(5, key), undefined)
  // Another replica that saw only the first write (dot 1, a live value) repairs this one.
  await store.merge(5, key, stale.object, 'repair')
  tt.equal(decodeObject(store.stored(5, key)!).vv[0]!.counter, 1, 'the stale copy is stored')
  const w = await store.write(5, { key, value: Buffer.from('c'), ttlMs: undefined, context: undefined })
  tt.equal(dotOf(w), 6, 'above the floor (5), not after the stale copy (2, a dot of a dropped write)')
})

t.test('a tombstone is dropped after the grace; a merge stores a dead object as a TTL entry too', async (tt) => {
  const { store, clock } = await setup(tt)
  await store.write(1, { key, value: Buffer.from('v'), ttlMs: undefined, context: undefined })
  await store.write(1, { key, value: undefined, ttlMs: undefined, context: undefined })
  tt.equal(decodeObject(store.stored(1, key)!).siblings[0]!.tombstone, true)
  clock.advance(grace - 1)
  tt.not(store.stored(1, key), undefined)
  clock.advance(1)
  tt.equal(store.stored(1, key), undefined, 'dropped')
  const other = Buffer.from('o')
  const dead: DvvObject = { vv: [{ replica: 9, counter: 3 }], siblings: [{ dot: { replica: 9, counter: 3 }, timestampMs: clock.nowMs(), expiresAtMs: 0, tombstone: true, value: Buffer.alloc(0) }] }
  await store.merge(1, other, encodeObject(dead), 'replica')
  tt.equal(store.counterFloor, 2, "another replica's counters do not move this one's floor")
  clock.advance(grace)
  tt.equal(store.stored(1, other), undefined, "a replica's dead object goes the same way")
})

t.test('an object past its drop is not stored where nothing is, nor cached; over an older value it is stored, to shadow it', async (tt) => {
  const cache = new RowCache(createReadCache(64 * 1024))
  const { engine, store, clock } = await setup(tt, cache)
  const dead = (counter: number): DvvObject => ({
    vv: [{ replica: 1, counter }],
    siblings: [{ dot: { replica: 1, counter }, timestampMs: clock.nowMs() - grace - 1, expiresAtMs: 0, tombstone: true, value: Buffer.alloc(0) }],
  })
  await store.merge(4, key, encodeObject(dead(7)), 'handoff')
  tt.equal(engine.getSync(dataKey(4, key)), undefined, 'nothing stored')
  tt.equal(cache.get(ringHash(key), key), undefined, 'nor cached')
  tt.equal(store.counterFloor, 7, 'but the floor covers its counters')
  const other = Buffer.from('older')
  await store.merge(4, other, encodeObject({ vv: [{ replica: 2, counter: 1 }], siblings: [{ dot: { replica: 2, counter: 1 }, timestampMs: 1, expiresAtMs: 0, tombstone: false, value: Buffer.from('v') }] }), 'replica')
  tt.not(cache.get(ringHash(other), other), undefined)
  await store.merge(4, other, encodeObject({ vv: [{ replica: 2, counter: 2 }], siblings: [{ dot: { replica: 2, counter: 2 }, timestampMs: clock.nowMs() - grace - 1, expiresAtMs: 0, tombstone: true, value: Buffer.alloc(0) }] }), 'repair')
  tt.equal(store.stored(4, other), undefined, 'the older value is shadowed: the key reads as nothing')
  tt.equal(cache.get(ringHash(other), other), undefined, 'and the cache entry is gone')
  await engine.compactAll()
  tt.equal(engine.stats().tableBytes, 0, 'compaction drops both')
})

t.test('at durability sync, a floor raised by a merge that stored nothing is saved with the next store, of any object', async (tt) => {
  const dir = tempDir(tt)
  const clock = new ManualClock()
  const node = await openNode(dir, 2, 'sync', clock)
  const store = new VnodeStore(node.engine, { kind: 'siblings' }, node.replicaId, clock, { tombstoneGraceMs: grace, counterFloor: node.counterFloor, saveFloorWithStores: true })
  const dead: DvvObject = {
    vv: [{ replica: node.replicaId, counter: 9 }],
    siblings: [{ dot: { replica: node.replicaId, counter: 9 }, timestampMs: clock.nowMs() - grace - 1, expiresAtMs: 0, tombstone: true, value: Buffer.alloc(0) }],
  }
  await store.merge(0, key, encodeObject(dead), 'handoff')
  tt.equal(store.counterFloor, 9)
  const w = await store.write(0, { key: Buffer.from('live'), value: Buffer.from('v'), ttlMs: undefined, context: undefined })
  tt.equal(dotOf(w), 10, 'a value that never expires is written, above the floor')
  await node.engine.close() // unclean
  const again = await openNode(dir, 2, 'sync', clock)
  tt.equal(again.counterFloor, 9, 'the floor was saved with that write')
  await closeNode(again.engine, again.counterFloor)
})

t.test('read repair skips a replica that lacks an object storage may have dropped, not one with an older value', async (tt) => {
  const dead: DvvObject = { vv: [{ replica: 1, counter: 2 }], siblings: [{ dot: { replica: 1, counter: 2 }, timestampMs: 1000, expiresAtMs: 0, tombstone: true, value: Buffer.alloc(0) }] }
  const older: DvvObject = { vv: [{ replica: 1, counter: 1 }], siblings: [{ dot: { replica: 1, counter: 1 }, timestampMs: 900, expiresAtMs: 0, tombstone: false, value: Buffer.from('v') }] }
  const answers = new Map<number, DvvObject | undefined>([[1, dead], [2, undefined], [3, older]])
  const primaries = new Set([1, 2, 3])
  tt.same(staleReplicas(answers, dead, primaries, 999), [2, 3], 'died after the threshold: not yet droppable')
  tt.same(staleReplicas(answers, dead, primaries, 1000), [3], 'droppable (as the store judges it, dropAt <= now): only the older value is repaired')
  tt.same(staleReplicas(answers, dead, primaries), [2, 3], 'no threshold: every stale primary')
})

t.test('the floor survives a graceful stop; an unclean stop takes a new incarnation unless the run was at durability sync', async (tt) => {
  const dir = tempDir(tt)
  const clock = new ManualClock()
  const first = await openNode(dir, 3, 'interval', clock)
  tt.equal(first.counterFloor, 0)
  await closeNode(first.engine, 17)
  const second = await openNode(dir, 3, 'interval', clock)
  tt.equal(second.incarnation, first.incarnation, 'a clean stop keeps the incarnation')
  tt.equal(second.counterFloor, 17, 'and the floor it saved')
  await second.engine.close() // not closeNode: an unclean stop
  const third = await openNode(dir, 3, 'sync', clock)
  tt.equal(third.incarnation, first.incarnation + 1, 'a new incarnation after an unclean stop of a run at interval (even if the next is at sync)')
  tt.equal(third.counterFloor, 0, 'whose counters start afresh')
  tt.not(third.replicaId, first.replicaId)
  // At sync, a store that raises the floor saves it with itself.
  const store = new VnodeStore(third.engine, { kind: 'siblings' }, third.replicaId, clock, { tombstoneGraceMs: grace, saveFloorWithStores: true })
  let context: Uint8Array | undefined
  for (let i = 0; i < 3; i++) context = (await store.write(0, { key, value: Buffer.from('x'), ttlMs: 10, context })).context
  await third.engine.close() // unclean again
  const fourth = await openNode(dir, 3, 'sync', clock)
  tt.equal(fourth.incarnation, third.incarnation, 'a run at sync keeps its incarnation through a crash')
  tt.equal(fourth.counterFloor, 3, 'and its floor, saved with the stores')
  await closeNode(fourth.engine, fourth.counterFloor)
})

t.test('through open(): the floor outlives a node restart; expired and deleted keys come back fresh; tombstoneGraceMs is checked', async (tt) => {
  const db = await testCluster(tt, { nodes: 3, replicas: 3, durability: 'interval', hints: { ageMsMax: 20 }, replicaTimeoutMs: 50, tombstoneGraceMs: 80 })
  const counters = (c: Buffer): number[] => {
    const ctx = decodeContext(Buffer.from('k'), c)
    return [...ctx.vv, ...ctx.dots].map((e) => e.counter)
  }
  let r = await db.set('k', 'a', { ttlMs: 10 })
  r = await db.set('k', 'b', { ttlMs: 10, context: r.context })
  tt.same(counters(r.context), [2], 'one coordinating replica, two dots')
  for (const n of await db.admin.nodes()) {
    await db.admin.stopNode(n.id)
    await db.admin.startNode(n.id)
  }
  await sleep(200)
  tt.equal(await db.get('k'), undefined)
  r = await db.set('k', 'c')
  tt.same(counters(r.context), [3], 'after the drop and a restart, the next dot is above the dropped ones (1 without the floor)')
  tt.same((await db.get('k'))?.siblings.map(String), ['c'])
  await db.set('b', 'x')
  await db.delete('b')
  await sleep(150)
  tt.equal(await db.get('b'), undefined)
  await db.set('b', 'again')
  tt.same((await db.get('b'))?.siblings.map(String), ['again'])
  const dir = tempDir(tt)
  const one = { dir, nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1 }
  tt.equal((await rejection(open({ ...one, tombstoneGraceMs: 3 * 3600_000 })))?.code, 'KV_INVALID_ARGUMENT', 'the default hint age plus the replica timeout is the least')
  tt.equal((await rejection(open({ ...one, tombstoneGraceMs: 0 })))?.code, 'KV_INVALID_ARGUMENT')
})

// Seeded: sets with and without TTL, deletes and graceful node restarts, with a grace short
// enough that dead objects are dropped during the run. Writes carry the context last seen, or
// (half the time, as a new client would) none. The last acknowledged value of a key must read
// back, alone or among siblings (a reused dot would lose it), and an expired value must never
// read back. A deleted value may come back (PROTOCOL.md §4.5: hints are short-lived here), so
// that is not checked.
t.test('randomized: no acknowledged write is lost across drops and restarts', async (tt) => {
  const seed = seedFromEnv()
  tt.comment(`seed ${seed} (RINGWOOD_SEED=${seed} reproduces)`)
  const rnd = makePrng(seed)
  const db = await testCluster(tt, { nodes: 4, replicas: 3, durability: 'interval', hints: { ageMsMax: 30 }, replicaTimeoutMs: 100, tombstoneGraceMs: 150, timeoutMs: 2_000 })
  interface KeyModel {
    live: string | undefined
    ttl: { value: string; from: number; to: number } | undefined
    context: Buffer | undefined
    unknown: boolean
  }
  const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`)
  const model = new Map<string, KeyModel>(keys.map((k) => [k, { live: undefined, ttl: undefined, context: undefined, unknown: false }]))
  const violations: string[] = []
  let n = 0
  let restarts = 0
  let checks = 0
  const { until, steps } = soakBudget(10_000, 600)
  for (let step = 0; step < steps && Date.now() < until; step++) {
    const roll = rnd.int(100)
    const id = 1 + rnd.int(4)
    const pause = 20 + rnd.int(150)
    if (roll < 4) {
      restarts++
      await db.admin.stopNode(id)
      await db.admin.startNode(id)
      continue
    }
    if (roll < 10) {
      await sleep(pause)
      continue
    }
    const key = keys[rnd.int(keys.length)]!
    const m = model.get(key)!
    const value = `v${n++}`
    const ttlMs = 10 + rnd.int(60)
    const context = rnd.bool() ? m.context : undefined
    const t0 = Date.now()
    try {
      if (roll < 45) {
        m.context = (await db.set(key, value, { context })).context
        Object.assign(m, { live: value, ttl: undefined, unknown: false })
      } else if (roll < 65) {
        m.context = (await db.set(key, value, { context, ttlMs })).context
        Object.assign(m, { live: undefined, ttl: { value, from: t0 + ttlMs, to: Date.now() + ttlMs }, unknown: false })
      } else if (roll < 75) {
        m.context = (await db.delete(key, { context })).context
        Object.assign(m, { live: undefined, ttl: undefined, unknown: false })
      } else {
        const got = await db.get(key)
        const t1 = Date.now()
        const values = got?.siblings.map(String) ?? []
        if (got !== undefined) m.context = got.context
        if (m.unknown) continue
        checks++
        if (m.live !== undefined && !values.includes(m.live)) violations.push(`${key}: acknowledged ${m.live} lost, read [${values}]`)
        if (m.ttl !== undefined && t1 < m.ttl.from - 2 && !values.includes(m.ttl.value)) violations.push(`${key}: ${m.ttl.value} gone before its expiry, read [${values}]`)
        if (m.ttl !== undefined && t0 > m.ttl.to + 2 && values.includes(m.ttl.value)) violations.push(`${key}: ${m.ttl.value} read after its expiry`)
      }
    } catch (err) {
      m.unknown = true // a failed write may or may not have been applied
      tt.comment(`step ${step}: ${(err as Error).message}`)
    }
  }
  tt.comment(`${n} writes and reads, ${checks} checked reads, ${restarts} restarts`)
  tt.ok(checks > 20, 'enough reads were checked')
  tt.same(violations.slice(0, 10), [], `no violations (seed ${seed})`)
})
