// The coordinator-actor placement (`coordination: 'actor'`, README "Where the quorum logic
// runs"): the same API contract as the client-driven default, with the quorum logic running
// in a coordinator actor on a replica. Versions, siblings, deletes, TTL, a crash under a
// write load with hinted handoff, the errors when replicas are missing, and a coordinator
// whose thread is blocked.

import t from 'tap'
import type { KvError } from '../../lib'
import type { RequestDriver } from '../../lib/cluster'
import type { Runtime } from '../../lib/runtime'
import { blockNode } from '../support/block_node'
import { rejection } from '../support/tmp'
import { missingReads, sleep, strs, testCluster, writeLoad } from './cluster_support'

t.test('actor placement: set, get, delete, contexts and siblings', async (tt) => {
  const db = await testCluster(tt, { coordination: 'actor' })
  tt.equal(await db.get('k'), undefined, 'absent')
  const base = await db.set('k', 'base')
  tt.equal((await db.get('k'))?.value.toString(), 'base')
  await Promise.all([db.set('k', 'x', { context: base.context }), db.set('k', 'y', { context: base.context })])
  const g = await db.get('k')
  tt.same(strs(g?.siblings), ['x', 'y'], 'concurrent writes kept as siblings; base replaced')
  const w = await db.set('k', 'xy', { context: g!.context })
  tt.same(strs((await db.get('k', { r: 'ALL' }))?.siblings), ['xy'], 'a covering write replaces both')
  await db.set('k', 'xy2', { context: w.context })
  tt.same(strs((await db.get('k'))?.siblings), ['xy2'], 'the context a set returns covers it')
  tt.equal((await rejection(db.set('other', 'v', { context: w.context })))?.code, 'KV_INVALID_ARGUMENT', 'a context of another key')
  await db.delete('k', { context: (await db.get('k'))!.context })
  tt.equal(await db.get('k'), undefined, 'deleted')
  tt.equal(await db.get('k', { r: 'ALL' }), undefined, 'deleted on every replica read')
  const s = (await db.admin.stats()).client
  tt.equal(s.cacheHits, 0, 'the actor placement does not read the caches')
  tt.equal(s.puts, 0, 'the caller drove no put itself')
})

t.test('actor placement: TTL and last-write-wins', async (tt) => {
  const db = await testCluster(tt, { coordination: 'actor', conflict: 'lww' })
  await db.set('t', 'soon', { ttlMs: 1_000 })
  tt.equal((await db.get('t'))?.value.toString(), 'soon')
  await sleep(1_100)
  tt.equal(await db.get('t'), undefined, 'expired')
  await db.set('k', 'first')
  await sleep(2)
  await db.set('k', 'second')
  tt.same(strs((await db.get('k'))?.siblings), ['second'], 'newest wins')
})

t.test('actor placement: a resolver merges siblings when they are read', async (tt) => {
  const resolver = (siblings: readonly { value: Buffer }[]): Buffer => Buffer.from(siblings.map((s) => s.value.toString()).sort().join('|'))
  const db = await testCluster(tt, { coordination: 'actor', conflict: resolver })
  await Promise.all([db.set('k', 'b'), db.set('k', 'a')])
  tt.equal((await db.get('k'))?.value.toString(), 'a|b', 'resolved value')
})

t.test('actor placement: acknowledged writes survive a node crash under load', async (tt) => {
  const db = await testCluster(tt, { coordination: 'actor', durability: 'interval', replicaTimeoutMs: 300, timeoutMs: 2_000 })
  const load = writeLoad(db, 4, 3_000)
  const acked = load.acked
  await sleep(200)
  const before = acked.size
  await db.admin.crashNode(2)
  // Hints are replayed as soon as node 2 is back: count them while it is down.
  let hinted = 0
  for (let i = 0; i < 30; i++) {
    if (!db.admin.nodes().find((n) => n.id === 2)!.up) hinted = Math.max(hinted, (await db.admin.hints()).count)
    await sleep(10)
  }
  tt.ok(acked.size > before, `writes continue while node 2 is down (${acked.size - before} more)`)
  tt.ok(hinted > 0, `writes meant for node 2 left hints on other nodes (${hinted} seen)`)
  await db.admin.startNode(2)
  await sleep(100)
  await load.stop()
  tt.comment(`acknowledged ${acked.size}, failed ${load.failed()}`)
  await db.admin.drainHints({ timeoutMs: 20_000 })
  tt.same(await missingReads(db, acked), [], 'every acknowledged write reads back with R=2')
})

t.test('actor placement: no live replica gives KV_UNAVAILABLE', async (tt) => {
  const db = await testCluster(tt, { coordination: 'actor', nodes: 3 })
  await db.set('k', 'v')
  for (const id of [1, 2, 3]) await db.admin.stopNode(id) // (a crashed node would be restarted meanwhile)
  tt.equal((await rejection(db.set('k', 'w')))?.code, 'KV_UNAVAILABLE')
  tt.equal((await rejection(db.get('k')))?.code, 'KV_UNAVAILABLE')
})

t.test('actor placement: a node crashed, then stopped, is not chosen to coordinate', async (tt) => {
  const db = await testCluster(tt, { coordination: 'actor' })
  let key = 'k0'
  for (let i = 0; db.admin.placement(key).primaries[0] !== 2; i++) key = `k${i}`
  await db.admin.crashNode(2)
  await db.admin.stopNode(2) // waits for the restart, which announces node 2 up again
  await db.set(key, 'v')
  tt.equal((await db.get(key))?.value.toString(), 'v', 'written through another replica')
  await db.admin.startNode(2)
})

t.test('actor placement: a coordinator that does not answer is suspected and passed over; one whose replicas do not answer is not', async (tt) => {
  // A replica timeout longer than the request's: coordinator 1 waits for node 3 until its own deadline.
  const db = await testCluster(tt, { coordination: 'actor', nodes: 3, replicas: 3, replicaTimeoutMs: 2_000, timeoutMs: 1_000, nodeHangTimeoutMs: 0, controlTimeoutMs: 1_000 })
  const inside = db.admin as unknown as { rt: Runtime; driver: RequestDriver }
  const keyFirstAt = (node: number): string => {
    for (let i = 0; ; i++) if (db.admin.placement(`k${i}`).primaries[0] === node) return `k${i}`
  }
  const [k1, k3] = [keyFirstAt(1), keyFirstAt(3)]
  await db.set(k1, 'v0')
  await blockNode(inside.rt, 3, 60_000)

  // Node 1 coordinates k1 and waits for node 3 in vain: it answers KV_TIMEOUT before the
  // caller's deadline (PROTOCOL.md §9.3), then, once it suspects node 3 itself,
  // KV_UNAVAILABLE at once. Having answered, it is not suspected.
  for (let i = 0; i < 3; i++) {
    const err = await rejection(db.set(k1, `all-${i}`, { w: 'ALL' }))
    tt.ok(err?.code === 'KV_TIMEOUT' || (i > 0 && err?.code === 'KV_UNAVAILABLE'), `W=ALL without node 3 fails (${i + 1}): ${err?.code}`)
    tt.equal((err as KvError | undefined)?.details['remote'], true, 'with the answer of coordinator 1')
  }
  tt.ok(inside.driver.healthy(1), 'node 1, which answered, is not suspected')

  // Node 3 coordinates k3 and answers nothing: it is suspected as a silent replica would be,
  // and the write goes to another primary.
  let timedOut = 0
  for (;;) {
    const err = await rejection(db.set(k3, 'v'))
    if (err === undefined) break
    tt.equal(err.code, 'KV_TIMEOUT', 'a write sent to node 3 times out')
    if (++timedOut > 5) break
  }
  tt.ok(timedOut >= 1 && timedOut <= 2, `${timedOut} writes timed out at node 3 before it was passed over`)
  tt.notOk(inside.driver.healthy(3), 'node 3 is suspected')
  tt.equal((await db.get(k3))?.value.toString(), 'v', 'the write went through another primary')
})
