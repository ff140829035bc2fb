// A caller whose thread is blocked past its requests' deadlines (a long synchronous stretch of
// the application, a GC pause) still gets the answers that arrived in time: deadline sweeps
// read what has arrived before they fail anything (lib/runtime/RUNTIME.md §3).

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
