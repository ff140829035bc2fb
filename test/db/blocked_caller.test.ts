// A caller whose thread is blocked past its requests' deadlines (a long synchronous stretch of
// the application, a GC pause) still gets the answers that arrived in time: deadline sweeps
// read what has arrived before they fail anything; and requests it wrote but had not yet
// published when it blocked keep their whole budget (lib/runtime/RUNTIME.md §3).

import t from 'tap'
import { testCluster } from './cluster_support'

const block = (ms: number): void => {
  const until = Date.now() + ms
  while (Date.now() < until);
}

t.test('answers that arrived while the caller was blocked are not failed as timeouts', async (tt) => {
  // No read caches: every get is a quorum round of two replica reads.
  const db = await testCluster(tt, { nodes: 3, replicas: 3, readCacheBytes: 0 })
  await db.set('k', 'v', { w: 'ALL' })
  const outcomes: string[] = []
  for (let round = 0; round < 3; round++) {
    const code = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: { code?: string }) => String(e.code))
    const get = code(db.get('k', { timeoutMs: 150 }))
    const set = code(db.set(`w${round}`, 'v', { w: 'ONE', timeoutMs: 150 }))
    await new Promise((r) => setImmediate(r)) // the requests are out; the nodes answer at once
    block(600)
    outcomes.push(await get, await set)
  }
  tt.same(outcomes, Array(6).fill('ok'), 'every get (R=2) and W=1 set answered in time was answered')
})

t.test('requests written while the caller is blocked, before they are published, keep their whole budget', async (tt) => {
  // The caller issues requests and blocks before its turn ends. Enough of them fill replica
  // batches (128 requests), which go to the mailbox at once, but nothing is published (the
  // mailbox flush is a microtask) until 1.5 s later, past the 1 s replica timeout. Each replica
  // request's budget starts when it is published (RUNTIME.md §3), so no replica is blamed for
  // the caller's delay: nothing times out, and no node is suspected.
  const db = await testCluster(tt, { nodes: 3, replicas: 3, readCacheBytes: 0, nodeNice: 0 })
  for (let i = 0; i < 20; i++) await db.set(`r${i}`, 'v', { w: 'ALL' })
  const code = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: { code?: string }) => String(e.code))
  const pending: Promise<string>[] = []
  for (let i = 0; i < 450; i++) pending.push(code(db.set(`w${i}`, 'v')))
  for (let i = 0; i < 20; i++) pending.push(code(db.get(`r${i}`)))
  block(1500)
  tt.same(await Promise.all(pending), Array(470).fill('ok'), 'every set and get issued before the block succeeded')
  const s = (await db.admin.stats()).client
  tt.equal(s.timeouts, 0, 'no request timed out')
  tt.equal(s.endpoint.timeouts, 0, 'no replica request timed out')
  tt.equal((await db.get('w449', { r: 'ALL' }))?.value.toString(), 'v', 'every replica answers a read at R = ALL: none is suspected')
})

t.test('writes left waiting for room in a mailbox while the caller is blocked: those in the rings are acknowledged, the rest time out, replicas answer after', async (tt) => {
  // Values large enough that 600 writes overflow the 256 KiB mailbox rings: those left in the
  // caller's overflow queue past the replica timeout are dropped unsent (RUNTIME.md §3; that
  // they fail as never seen, and are not counted against their node, is tested in
  // test/runtime and test/cluster/batch.test.ts).
  const db = await testCluster(tt, { nodes: 3, replicas: 3, readCacheBytes: 0 })
  await db.set('before', 'v', { w: 'ALL' })
  const value = Buffer.alloc(2048, 7)
  const pending = Array.from({ length: 600 }, (_, i) => db.set(`big${i}`, value).then(() => 'ok', (e: { code?: string }) => String(e.code)))
  block(1500)
  const got = await Promise.all(pending)
  const ok = got.filter((g) => g === 'ok').length
  tt.ok(got.every((g) => g === 'ok' || g === 'KV_TIMEOUT'), `each set was acknowledged or timed out (${ok} ok)`)
  tt.ok(ok > 0, 'those that were in the rings were acknowledged')
  tt.equal((await db.get('before', { r: 'ALL' }))?.value.toString(), 'v', 'every replica answers a read at R = ALL: none is suspected')
})
