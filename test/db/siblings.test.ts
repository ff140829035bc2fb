// Concurrent writers on one key: both values kept as siblings until a write with a covering
// context; a registered resolver merges them; LWW is opt-in. Plus TTL and get coalescing.

import t from 'tap'
import { rejection } from '../support/tmp'
import { sleep, testCluster } from './cluster_support'

t.test('concurrent writers: siblings until a covering write', async (tt) => {
  const db = await testCluster(tt)
  const base = await db.set('k', 'base')
  // Two writers that both saw 'base' write concurrently.
  await Promise.all([db.set('k', 'x', { context: base.context }), db.set('k', 'y', { context: base.context })])
  const g = await db.get('k')
  tt.same(g?.siblings.map(String).sort(), ['x', 'y'], 'both kept; base replaced')
  const w = await db.set('k', 'xy', { context: g!.context })
  tt.same((await db.get('k', { r: 'ALL' }))?.siblings.map(String), ['xy'])
  // The context a set returns covers that write: the next write replaces it.
  await db.set('k', 'xy2', { context: w.context })
  tt.same((await db.get('k'))?.siblings.map(String), ['xy2'])
  tt.equal((await rejection(db.set('other', 'v', { context: w.context })))?.code, 'KV_INVALID_ARGUMENT', 'a context of another key')
})

t.test('a registered resolver merges concurrent writes', async (tt) => {
  const resolver = (siblings: readonly { value: Buffer }[]): Buffer => Buffer.from(siblings.map((s) => s.value.toString()).sort().join('|'))
  const db = await testCluster(tt, { conflict: resolver })
  await Promise.all([db.set('k', 'b'), db.set('k', 'a')])
  const g = await db.get('k')
  tt.equal(g?.value.toString(), 'a|b', 'resolved value')
  tt.same(g?.siblings.map(String), ['a|b'], 'resolved at the second write: one value stored')
  // Acknowledged at W=2: the third replica gets the resolved write a little later.
  let resolved = false
  for (let i = 0; i < 500 && !resolved; i++) {
    const at = await db.admin.replicaValues('k')
    resolved = Object.values(at).every((v) => v === undefined || v.map(String).join() === 'a|b')
    if (!resolved) await sleep(10)
  }
  tt.ok(resolved, 'replicas hold the resolved value only')
})

t.test('last-write-wins is opt-in', async (tt) => {
  const db = await testCluster(tt, { conflict: 'lww' })
  await db.set('k', 'first')
  await sleep(2)
  await db.set('k', 'second')
  const g = await db.get('k')
  tt.same(g?.siblings.map(String), ['second'], 'newest wins, one value')
})

t.test('TTL: a value expires', async (tt) => {
  const db = await testCluster(tt)
  await db.set('t', 'soon', { ttlMs: 100 })
  tt.equal((await db.get('t'))?.value.toString(), 'soon')
  await sleep(150)
  tt.equal(await db.get('t'), undefined, 'expired')
})

t.test('get coalescing: concurrent gets of one key share one quorum round; 1000 in flight work', async (tt) => {
  const db = await testCluster(tt)
  await db.set('hot', 'v')
  const before = (await db.admin.stats()).client
  const rs = await Promise.all(Array.from({ length: 1000 }, () => db.get('hot')))
  const after = (await db.admin.stats()).client
  tt.ok(rs.every((r) => r?.value.toString() === 'v'))
  tt.equal(after.gets - before.gets, 1000)
  tt.ok(after.getRounds - before.getRounds <= 2, `1000 gets took ${after.getRounds - before.getRounds} round(s)`)
  const keys = Array.from({ length: 1000 }, (_, i) => `m${i}`)
  await db.setMany(keys.map((k) => [k, k] as [string, string]))
  const got = await db.getMany(keys)
  tt.ok(got.every((g, i) => g?.value.toString() === keys[i]), '1000 different keys in flight')
  const s = await db.admin.stats()
  tt.ok(s.nodes.every((n) => typeof n.eventLoopUtilization === 'number' && n.endpoint.pendingRequests >= 0), 'per-node utilization and mailbox figures')
})
