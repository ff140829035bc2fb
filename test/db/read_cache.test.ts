// The shared read caches in an embedded cluster (PROTOCOL.md §9.8): gets answered without a
// message when the first R primaries agree, writes seen at once, replicas that disagree
// answered (and repaired) by the quorum round, stopped and crashed nodes never read from
// their caches, and the option.

import t from 'tap'
import { open } from '../../lib'
import { sleep, strs, testCluster } from './cluster_support'
import { tempDir, rejection } from '../support/tmp'
import { Database } from '../../lib/db/database'
import type { Router } from '../../lib/db/router'
import type { Admin } from '../../lib/db/admin'
import { AdmissionGate } from '../../lib/db/admission'
import { systemClock } from '../../lib/util/clock'
import { encodeObject, type ConflictPolicy, type Sibling } from '../../lib/cluster'

async function hits(db: { admin: { stats(): Promise<{ client: { cacheHits: number } }> } }): Promise<number> {
  return (await db.admin.stats()).client.cacheHits
}

t.test('a get is answered from the caches once the replicas hold the key; writes replace it', async (tt) => {
  const db = await testCluster(tt, { nodes: 3, replicas: 3, partitions: 16 })
  await db.set('k', 'v1', { w: 'ALL' })
  const h0 = await hits(db)
  tt.equal((await db.get('k'))?.value.toString(), 'v1')
  tt.equal(await hits(db), h0 + 1, 'a write publishes its object: the first read is a hit')
  const r = await db.get('k')
  tt.same(strs(r!.siblings), ['v1'], 'one sibling')
  tt.same(JSON.parse(JSON.stringify(r)).value, JSON.parse(JSON.stringify({ value: Buffer.from('v1') })).value, 'toJSON')
  await db.set('k', 'v2', { context: r!.context, w: 'ALL' })
  const r2 = await db.get('k')
  tt.same(strs(r2!.siblings), ['v2'], 'a write is seen by the next get, and the context of a cache answer covered v1')
  await db.set('t', 'short-lived', { w: 'ALL', ttlMs: 150 })
  tt.equal((await db.get('t'))?.value.toString(), 'short-lived')
  await sleep(300)
  tt.equal(await db.get('t'), undefined, 'an expired cached object reads as absent')
  await db.delete('k', { w: 'ALL' })
  tt.equal(await db.get('k'), undefined, 'a delete too (the tombstone is the cached object)')
  const s = await db.admin.stats()
  tt.equal(s.client.getRounds, 0, 'no quorum round was needed')
})

t.test('replicas that disagree: the quorum round answers and repairs, then the caches agree', async (tt) => {
  const db = await testCluster(tt, { nodes: 3, replicas: 3, partitions: 16 })
  const key = 'disputed'
  const [first] = db.admin.placement(key).primaries
  await db.admin.stopNode(first!)
  await db.set(key, 'while-down') // W=2 on the others (and a hint)
  await db.admin.startNode(first!)
  const rounds0 = (await db.admin.stats()).client.getRounds
  tt.equal((await db.get(key))?.value.toString(), 'while-down', 'the node that missed the write does not answer alone')
  const s = await db.admin.stats()
  tt.ok(s.client.getRounds > rounds0, 'a miss on the restarted primary takes the quorum round')
  await db.admin.drainHints()
  // The repair goes out once every replica has answered the round (the restarted one may be
  // slow to, on a loaded machine): wait until it has landed.
  for (let i = 0; i < 100 && strs((await db.admin.replicaValues(key))[first!])?.[0] !== 'while-down'; i++) await sleep(50)
  const h0 = await hits(db)
  tt.equal((await db.get(key))?.value.toString(), 'while-down')
  tt.equal(await hits(db), h0 + 1, 'after repair and handoff the caches agree')
})

t.test('a stopped or crashed node is never read from its cache', async (tt) => {
  const db = await testCluster(tt, { nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, partitions: 8 })
  await db.set('k', 'v')
  tt.equal((await db.get('k'))?.value.toString(), 'v')
  const h0 = await hits(db)
  await db.admin.stopNode(1)
  tt.equal((await rejection(db.get('k')))?.code, 'KV_UNAVAILABLE', 'a stopped node answers nothing, from its cache neither')
  await db.admin.startNode(1)
  tt.equal((await db.get('k'))?.value.toString(), 'v', 'read from the engine after the start')
  await db.admin.crashNode(1)
  tt.equal((await rejection(db.get('k', { timeoutMs: 200 })))?.code !== undefined, true, 'a crashed node answers nothing')
  await db.admin.startNode(1)
  tt.equal((await db.get('k'))?.value.toString(), 'v', 'the restarted node starts with an empty cache and reads its engine')
  tt.equal((await db.get('k'))?.value.toString(), 'v')
  tt.equal(await hits(db), h0 + 1, 'hits only where the node was serving and had published the key')
})

t.test('readCacheBytes: 0 turns the caches off; bad values are refused', async (tt) => {
  const db = await testCluster(tt, { nodes: 3, replicas: 3, partitions: 16, readCacheBytes: 0 })
  await db.set('k', 'v', { w: 'ALL' })
  tt.equal((await db.get('k'))?.value.toString(), 'v')
  tt.equal(await hits(db), 0)
  const dir = tempDir(tt)
  for (const bad of [-1, 1.5, 'big', 100]) {
    tt.equal((await rejection(open({ dir, nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, readCacheBytes: bad as never })))?.code, 'KV_INVALID_ARGUMENT', `readCacheBytes ${String(bad)}`)
  }
})

t.test('a caller looping on cached gets still lets timers and replies in', async (tt) => {
  const db = await testCluster(tt, { nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, partitions: 8 })
  await db.set('k', 'v')
  await db.get('k')
  const all = await Promise.all(Array.from({ length: 3000 }, () => db.get('k')))
  tt.ok(all.every((r) => r?.value.toString() === 'v'), 'gets beyond one turn\'s allowance are answered in the next')
  let fired = false
  setTimeout(() => (fired = true), 1)
  const t0 = Date.now()
  let loops = 0
  while (!fired && Date.now() - t0 < 5000) {
    await db.get('k')
    loops++
  }
  tt.ok(fired, `a timer fired while the loop awaited cached gets (after ${loops} gets)`)
})

t.test('batches: large objects are answered one by one; a short timeout fails only its own get', async (tt) => {
  // Generous timeouts: 44 MiB of writes on a busy 2-core machine can take seconds; timeouts are not what this tests.
  const db = await testCluster(tt, { nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, partitions: 8, replicaTimeoutMs: 20_000, timeoutMs: 30_000 })
  const big = (c: number): Buffer => Buffer.alloc(11 * 1024 * 1024, c)
  await Promise.all([db.set('b1', big(1)), db.set('b2', big(2)), db.set('b3', big(3))])
  const got = await Promise.all([db.get('b1'), db.get('b2'), db.get('b3'), db.set('b4', big(4)).then(() => db.get('b4'))])
  tt.same(got.map((g) => g?.value[0]), [1, 2, 3, 4], 'three 11 MiB reads in one batch (33 MiB of answers: more than one message holds) and a write beside them')
  tt.same(got.map((g) => g?.value.length), [11, 11, 11, 11].map((m) => m * 1024 * 1024))
  tt.same(db.admin.nodes().map((n) => n.generation), [1], 'no node crashed')
  const sets = Array.from({ length: 49 }, (_, i) => db.set(`s${i}`, 'v'))
  const quick = db.get('s0', { timeoutMs: 1 }).then(() => 'ok', (e: { code?: string }) => e.code)
  const results = await Promise.allSettled(sets)
  tt.equal(results.filter((r) => r.status === 'rejected').length, 0, 'the writes batched with a 1 ms get all succeed')
  tt.ok(['ok', 'KV_TIMEOUT'].includes((await quick)!), 'the get itself answered or timed out')
  tt.equal((await db.get('s48'))?.value.toString(), 'v', 'and the node is not suspected afterwards')
})

t.test('batches: writes whose answers (whole objects) would not fit one answer are each applied once', async (tt) => {
  const db = await testCluster(tt, { nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, partitions: 8, replicaTimeoutMs: 20_000, timeoutMs: 30_000 })
  await db.set('K', Buffer.alloc(6 * 1024 * 1024, 7))
  // Six blind writes in one tick: one batch, each answer carrying the 6 MiB sibling (36 MiB in all).
  const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => db.set('K', `x${i}`)))
  tt.same(results.map((r) => r.status), Array(6).fill('fulfilled'), 'every write acknowledged')
  const g = await db.get('K')
  tt.equal(g?.siblings.length, 7, 'the big value and six siblings: nothing applied twice, nothing lost')
})

t.test('cache answers skip the third replica; every 64th starts a background round that repairs it', async (tt) => {
  const db = await testCluster(tt, { nodes: 3, replicas: 3, partitions: 16 })
  const key = 'repair-me'
  const [a, b, c] = db.admin.placement(key).primaries
  await db.set(key, 'old', { w: 'ALL' })
  const seen = await db.get(key)
  await db.admin.stopNode(c!)
  await db.set(key, 'new', { context: seen!.context }) // W=2 on a and b; with 3 nodes there is no fallback, so no hint
  await db.admin.startNode(c!)
  const s0 = (await db.admin.stats()).client
  const toNext = 64 - (s0.cacheHits % 64) // cache answers until the next background round
  for (let i = 0; i < toNext - 1; i++) tt.equal((await db.get(key))?.value.toString(), 'new')
  const s1 = (await db.admin.stats()).client
  tt.equal(s1.cacheHits - s0.cacheHits, toNext - 1, 'answered from the caches of the first two primaries')
  tt.same(strs((await db.admin.replicaValues(key))[c!]), ['old'], 'the third replica is still stale: cache answers do not read it')
  await db.get(key) // the cache answer that starts a background round
  tt.equal((await db.admin.stats()).client.cacheRepairRounds - s0.cacheRepairRounds, 1, 'one background round')
  let repaired = false
  for (let i = 0; i < 100 && !repaired; i++) {
    repaired = strs((await db.admin.replicaValues(key))[c!])?.[0] === 'new'
    if (!repaired) await sleep(10)
  }
  tt.ok(repaired, 'the background round repaired the third replica')
  tt.same([a, b].map((n) => n !== undefined), [true, true])
})

t.test('every kind of key reads from the caches: short ASCII strings, long and non-ASCII strings, bytes', async (tt) => {
  const db = await testCluster(tt, { nodes: 3, replicas: 3, partitions: 16 })
  const keys: (string | Uint8Array)[] = ['plain', 'x'.repeat(300), 'clé-日本', Uint8Array.from([0, 255, 7])]
  for (const [i, k] of keys.entries()) await db.set(k, `v${i}`, { w: 'ALL' })
  const h0 = await hits(db)
  for (const [i, k] of keys.entries()) {
    const r = await db.get(k)
    tt.equal(r?.value.toString(), `v${i}`, `key ${i}`)
    await db.set(k, `w${i}`, { context: r!.context, w: 'ALL' })
    tt.same(strs((await db.get(k))?.siblings), [`w${i}`], `key ${i}: its cache answer's context covered what it read`)
  }
  tt.equal((await db.get(Buffer.from('plain')))?.value.toString(), 'w0', 'a string and its bytes are one key')
  tt.equal(await hits(db), h0 + 2 * keys.length + 1, 'all answered from the caches')
  tt.equal(await db.get('absent'), undefined)
})

t.test('a resolver that throws on a cache answer fails the get; a get it starts does not change the key of the round', async (tt) => {
  // Database alone, with a router whose cache holds two siblings for one key.
  const now = Date.now()
  const sibling = (replica: number, v: string): Sibling => ({ dot: { replica, counter: 1 }, timestampMs: now, expiresAtMs: 0, tombstone: false, value: Buffer.from(v) })
  const twoSiblings = encodeObject({ vv: [{ replica: 1024, counter: 1 }, { replica: 2048, counter: 1 }], siblings: [sibling(1024, 'a'), sibling(2048, 'b')] })
  const rounds: string[] = []
  const router: Router = {
    cached: (key) => (key.toString() === 'user:1234' ? Buffer.from(twoSiblings) : undefined),
    get: (key, _r, _t, cb) => {
      rounds.push(key.toString())
      cb(undefined, undefined)
    },
    put: () => undefined,
  }
  let calls = 0
  const policy: ConflictPolicy = {
    kind: 'resolver',
    resolve: () => {
      calls++
      void db.get('cfg:9').catch(() => undefined) // writes the shared key buffer
      throw new Error('cannot merge')
    },
  }
  const db: Database = new Database(router, new AdmissionGate(router, { maxInFlight: 10, maxQueued: 10 }, systemClock), { replicas: 3, readQuorum: 2, writeQuorum: 2, timeoutMs: 1000 }, policy, () => now, {} as Admin, async () => undefined)
  tt.equal(((await rejection(db.get('user:1234'))) as Error | undefined)?.message, 'cannot merge', 'the resolver error fails the get')
  tt.equal(calls, 1, 'the resolver ran once')
  tt.same(rounds, ['cfg:9'], 'no quorum round for a key nobody asked for')
})

t.test('a node publishes only the partitions it serves among the first R primaries; a get with a larger R takes the round', async (tt) => {
  const db = await testCluster(tt, { nodes: 3, replicas: 3, partitions: 16 }) // R = 2
  await db.set('k', 'v', { w: 'ALL' })
  const s0 = (await db.admin.stats()).client
  tt.equal((await db.get('k'))?.value.toString(), 'v')
  tt.equal((await db.get('k', { r: 'ALL' }))?.value.toString(), 'v')
  const s1 = (await db.admin.stats()).client
  tt.equal(s1.cacheHits - s0.cacheHits, 1, 'R = 2: from the caches')
  tt.equal(s1.getRounds - s0.getRounds, 1, 'R = 3: the third primary caches nothing of it, so a round')
})
