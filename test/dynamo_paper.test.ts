// The Dynamo paper's section 4, one test per mechanism this build covers, each naming its
// subsection (DeCandia et al., "Dynamo: Amazon's Highly Available Key-value Store", SOSP 2007).
// Every test starts and stops its own embedded cluster in a temp dir.

import t from 'tap'
import { rejection } from './support/tmp'
import { testCluster as cluster, strs as str } from './db/cluster_support'

t.test('4.2 partitioning: consistent hashing places each key on N distinct nodes, load spread over all nodes', async (tt) => {
  const db = await cluster(tt)
  const perNode = new Map<number, number>()
  for (let i = 0; i < 200; i++) {
    const p = db.admin.placement(`key-${i}`)
    tt.equal(new Set(p.primaries).size, 3, 'N distinct nodes')
    for (const n of p.primaries) perNode.set(n, (perNode.get(n) ?? 0) + 1)
  }
  tt.equal(perNode.size, 4, 'every node holds keys')
  for (const [, c] of perNode) tt.ok(c > 200 * 3 / 4 / 2, 'no node starves')
  await db.set('where', 'here', { w: 'ALL' })
  const at = await db.admin.replicaValues('where')
  const p = db.admin.placement('where')
  for (const id of [1, 2, 3, 4]) {
    if (p.primaries.includes(id)) tt.same(str(at[id]), ['here'], `primary ${id} stores it`)
    else tt.equal(at[id], undefined, `non-owner ${id} does not`)
  }
})

t.test('4.3 replication: a write with W=2 reaches all N replicas of its preference list', async (tt) => {
  const db = await cluster(tt)
  await db.set('r', 'v1')
  const p = db.admin.placement('r')
  let ok = false
  for (let i = 0; i < 100 && !ok; i++) {
    const at = await db.admin.replicaValues('r')
    ok = p.primaries.every((n) => str(at[n])?.[0] === 'v1')
    if (!ok) await new Promise((r) => setTimeout(r, 10))
  }
  tt.ok(ok, 'every primary holds the value')
})

t.test('4.4 data versioning: concurrent writes are kept as siblings until a write with a covering context', async (tt) => {
  const db = await cluster(tt)
  await Promise.all([db.set('cart', 'a'), db.set('cart', 'b')])
  const g = await db.get('cart')
  tt.same(g?.siblings.map(String).sort(), ['a', 'b'], 'both versions kept')
  await db.set('cart', 'a+b', { context: g!.context })
  const g2 = await db.get('cart')
  tt.same(g2?.siblings.map(String), ['a+b'], 'a write with the context supersedes what it saw')
  // A stale context (from before) does not overwrite the newer value: it makes a sibling.
  await db.set('cart', 'stale', { context: g!.context })
  tt.same((await db.get('cart'))?.siblings.map(String).sort(), ['a+b', 'stale'])
  // Deletes are versioned tombstones.
  const g3 = await db.get('cart')
  await db.delete('cart', { context: g3!.context })
  tt.equal(await db.get('cart'), undefined, 'deleted')
})

t.test('4.5 get() and put(): R and W quorums, levels, and too few replicas', async (tt) => {
  const db = await cluster(tt, { nodes: 3 })
  await db.set('q', '1', { w: 'ALL' })
  tt.equal((await db.get('q', { r: 'ALL' }))?.value.toString(), '1')
  tt.equal((await rejection(db.set('q', '2', { w: 4 })))?.code, 'KV_INVALID_ARGUMENT', 'W > N refused before sending')
  tt.equal((await rejection(db.get('', {})))?.code, 'KV_INVALID_ARGUMENT', 'empty key')
  tt.equal((await rejection(db.get('q', { level: 'LOCAL_QUORUM' } as never)))?.code, 'KV_INVALID_ARGUMENT', 'no DCs yet')
  tt.equal((await rejection(db.get('q', { bogus: 1 } as never)))?.code, 'KV_INVALID_ARGUMENT', 'unknown option')
  await db.admin.stopNode(3)
  await db.set('q', '3', { context: (await db.get('q'))!.context })
  tt.equal((await db.get('q'))?.value.toString(), '3', 'QUORUM with one node stopped')
  tt.equal((await rejection(db.set('q', '4', { w: 'ALL' })))?.code, 'KV_UNAVAILABLE', 'W=ALL with a replica down and no fallback')
  await db.admin.stopNode(2)
  tt.equal((await rejection(db.get('q')))?.code, 'KV_UNAVAILABLE', 'R=2 with one live replica')
  tt.equal((await db.get('q', { level: 'ONE' }))?.value.toString(), '3', 'ONE still answers')
  await db.admin.startNode(2)
  await db.admin.startNode(3)
})

t.test('4.6 sloppy quorum and hinted handoff: a write for a down node goes to a fallback with a hint, replayed when it is back', async (tt) => {
  const db = await cluster(tt)
  const key = 'handoff'
  const p = db.admin.placement(key)
  const down = p.primaries[1]!
  const fallback = p.fallbacks[0]!
  await db.admin.stopNode(down)
  await db.set(key, 'while-down', { w: 'ALL' })
  const h = await db.admin.hints()
  const held = h.nodes.find((n) => n.id === fallback)
  tt.equal(held?.byOwner[down]?.count, 1, 'the fallback holds one hint naming the intended owner')
  tt.equal((await db.admin.replicaValues(key))[fallback], undefined, 'a hint is not vnode data on the fallback')
  await db.admin.startNode(down)
  await db.admin.drainHints({ timeoutMs: 10_000 })
  tt.equal((await db.admin.hints()).count, 0, 'drained')
  tt.same(str((await db.admin.replicaValues(key))[down]), ['while-down'], 'the owner got the write by handoff')
})
