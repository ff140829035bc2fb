// open()'s nodeNice (RUNTIME.md §11): the node threads run below the caller's priority, by 10
// nice levels unless told otherwise; the caller's thread and libuv's pool keep theirs.

import fs from 'node:fs'
import t from 'tap'
import { open } from '../../lib'
import { niceMax, threadNice } from '../../lib/runtime/thread_priority'
import { testCluster } from './cluster_support'
import { rejection, tempDir } from '../support/tmp'

const base = threadNice()

/** Nice value of every thread of this process other than the caller's, by thread id. */
function otherThreads(): Map<number, number> {
  const out = new Map<number, number>()
  for (const tid of fs.readdirSync('/proc/self/task').map(Number)) {
    if (tid === process.pid) continue
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      out.set(tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]))
    } catch {
      // the thread ended
    }
  }
  return out
}

t.test('node threads run 10 nice levels below the caller by default; the rest of the process does not', { skip: base === undefined ? 'no per-thread priorities here' : false }, async (tt) => {
  const db = await testCluster(tt, { nodes: 3, replicas: 3 })
  await db.set('k', 'v')
  const nodes = (await db.admin.stats()).nodes.map((n) => n.endpoint.threadNice)
  tt.same(nodes, [1, 2, 3].map(() => Math.min(niceMax, base! + 10)), 'every node thread at the caller + 10')
  tt.equal(threadNice(), base, "the caller's thread is unchanged")
  const lowered = [...otherThreads().values()].filter((n) => n !== base)
  tt.equal(lowered.length, 3, `only the three node threads run lowered (libuv's pool and V8's threads do not): ${[...otherThreads()].join(' ')}`)
})

t.test('nodeNice: 0 keeps the priority; bad values are KV_INVALID_ARGUMENT', async (tt) => {
  const db = await testCluster(tt, { nodes: 3, replicas: 3, nodeNice: 0 })
  tt.same((await db.admin.stats()).nodes.map((n) => n.endpoint.threadNice), [1, 2, 3].map(() => base ?? null))
  const dir = tempDir(tt)
  for (const bad of [-1, 20, 2.5, '5']) {
    tt.equal((await rejection(open({ dir, nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, nodeNice: bad as never })))?.code, 'KV_INVALID_ARGUMENT', `nodeNice ${String(bad)}`)
  }
})
