// Under a write load, crash a node (worker terminated), keep writing, let it restart, drain
// hints: every write acknowledged with W=2 reads back with R=2, and after repair every
// replica of its preference list holds it.

import t from 'tap'
import { missingReads, sleep, strs, testCluster, writeLoad } from './cluster_support'

t.test('acknowledged W=2 writes survive a node crash and restart; repair brings every replica up to date', async (tt) => {
  const db = await testCluster(tt, { durability: 'interval', replicaTimeoutMs: 300, timeoutMs: 2_000 })
  const load = writeLoad(db, 4, 5_000)
  const acked = load.acked
  await sleep(300)
  const before = acked.size
  await db.admin.crashNode(2)
  await sleep(300)
  tt.ok(acked.size > before, `writes continue while node 2 is down (${acked.size - before} more)`)
  await db.admin.startNode(2)
  await sleep(200)
  await load.stop()
  tt.comment(`acknowledged ${acked.size}, failed ${load.failed()}`)
  await db.admin.drainHints({ timeoutMs: 20_000 })
  tt.same(await missingReads(db, acked), [], 'every acknowledged write reads back with R=2')
  // Reads with R=ALL repair every stale primary; then every primary holds each value.
  const keys = [...acked.keys()]
  for (let i = 0; i < keys.length; i += 200) await Promise.all(keys.slice(i, i + 200).map((k) => db.get(k, { r: 'ALL' })))
  await sleep(200)
  const stale: string[] = []
  for (const k of keys.slice(0, 300)) {
    const at = await db.admin.replicaValues(k)
    for (const n of db.admin.placement(k).primaries) if (strs(at[n])?.join() !== acked.get(k)) stale.push(`${k}@${n}`)
  }
  tt.same(stale, [], 'every replica holds every acknowledged write after repair (first 300 keys checked directly)')
})
