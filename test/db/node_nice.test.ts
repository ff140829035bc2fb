// open()'s nodeNice (lib/runtime/RUNTIME.md §11): the node threads run below the caller's
// priority, by 10 nice levels unless told otherwise (capped at 19); the caller's thread and
// libuv's thread pool keep theirs.

import { spawnSync } from 'node:child_process'
import path from 'node:path'
import t from 'tap'
import { open } from '../../lib'
import { niceMax, threadNice } from '../../lib/runtime/thread'
import { testCluster } from './cluster_support'
import { rejection, tempDir } from '../support/tmp'

const base = threadNice()

// In a fresh process (so that nothing has started libuv's pool before open()), with the
// defaults: 'interval' durability syncs its logs through the pool. Prints the nice value of
// every thread but the main one, and what the nodes report.
const child = `
const fs = require('fs'), os = require('os'), path = require('path')
const { open } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib'))})
;(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-nice-'))
  try {
    const db = await open({ dir, nodes: 3, replicas: 3 })
    for (let i = 0; i < 2000; i++) await db.set('k' + i, 'v')
    await new Promise((r) => setTimeout(r, 300))
    const threads = []
    for (const tid of fs.readdirSync('/proc/self/task').map(Number)) {
      if (tid === process.pid) continue
      try {
        const stat = fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8')
        threads.push(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]))
      } catch {}
    }
    const nodes = (await db.admin.stats()).nodes.map((n) => n.endpoint.threadNice)
    await db.close()
    console.log(JSON.stringify({ main: os.getPriority(process.pid), threads, nodes }))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})()
`

const skip = base === undefined ? 'no per-thread priorities here' : base >= niceMax ? `the tests run at nice ${base}: nothing to lower` : false

t.test('by default only the node threads run lowered, 10 levels (capped at 19); the caller and libuv pool do not', { skip }, async (tt) => {
  // Without NODE_OPTIONS: code a test runner preloads (tap adds its own to every child it
  // sees spawned) may start the pool before open() does, and the test would prove nothing.
  const run = spawnSync('env', ['-u', 'NODE_OPTIONS', process.execPath, '-e', child], { encoding: 'utf8', timeout: 60_000 })
  tt.equal(run.status, 0, `child exited cleanly: ${run.stderr}`)
  const got = JSON.parse(run.stdout.trim().split('\n').pop()!) as { main: number; threads: number[]; nodes: number[] }
  const lowered = Math.min(niceMax, base! + 10)
  tt.same(got.nodes, [lowered, lowered, lowered], `every node thread at nice ${lowered}`)
  tt.equal(got.main, base, "the caller's thread is unchanged")
  tt.equal(got.threads.filter((n) => n === lowered).length, 3, `only the three node threads are lowered (libuv's pool and V8's threads are not): ${got.threads.join(' ')}`)
})

t.test('nodeNice: 0 keeps the priority; bad values are KV_INVALID_ARGUMENT', async (tt) => {
  const db = await testCluster(tt, { nodes: 3, replicas: 3, nodeNice: 0 })
  tt.same((await db.admin.stats()).nodes.map((n) => n.endpoint.threadNice), [1, 2, 3].map(() => base ?? null))
  const dir = tempDir(tt)
  for (const bad of [-1, 20, 2.5, '5']) {
    tt.equal((await rejection(open({ dir, nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, nodeNice: bad as never })))?.code, 'KV_INVALID_ARGUMENT', `nodeNice ${String(bad)}`)
  }
})
