// A node whose thread is blocked (a bug, a stalled call): the data plane goes on around it
// (its requests time out and it is suspected), db.admin answers within controlTimeoutMs and
// names it, and close() returns, terminating it; reopened, the cluster has every write. Past
// nodeHangTimeoutMs the supervisor's watchdog restarts it.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { open, type KvError } from '../../lib'
import type { Runtime } from '../../lib/runtime'
import { blockNode } from '../support/block_node'

const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: KvError) => e.code)

t.test('a blocked node: requests go on, admin answers and names it, close() returns', async (tt) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-blocked-'))
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  // (The watchdog is off: this node stays blocked until close().)
  const opts = { dir, nodes: 3, replicas: 3, partitions: 16, durability: 'interval' as const, replicaTimeoutMs: 300, controlTimeoutMs: 2000, nodeHangTimeoutMs: 0 }
  const db = await open(opts)
  let closed = false
  tt.teardown(() => (closed ? undefined : db.close()))
  for (let i = 0; i < 10; i++) await db.set(`before-${i}`, `v${i}`, { w: 'ALL' })

  const rt = (db.admin as unknown as { rt: Runtime }).rt
  await blockNode(rt, 2, 60_000)

  const stats = await db.admin.stats()
  tt.same(stats.unresponsive, [2], 'stats() names the node that did not answer')
  tt.same(stats.nodes.map((n) => n.id), [1, 3], 'and reports the others')
  tt.same((await db.admin.hints()).unresponsive, [2], 'so does hints()')
  tt.equal(await codeOf(db.admin.replicaValues('before-0')), 'KV_TIMEOUT', 'replicaValues() cannot answer without it')
  const drain = (await db.admin.drainHints({ timeoutMs: 3000 }).catch((e: KvError) => e)) as KvError
  tt.equal(drain.code, 'KV_TIMEOUT')
  tt.match(drain.message, /1 not answering/, 'drainHints() says why it cannot finish')

  // W = R = 2 is met by nodes 1 and 3. A write that node 2 was to coordinate times out until
  // node 2 is suspected (README: a timed-out write may still have been applied); the caller
  // writes it again.
  let timedOut = 0
  for (let i = 0; i < 10; i++) {
    for (let attempt = 1; ; attempt++) {
      const code = await codeOf(db.set(`during-${i}`, `w${i}`))
      if (code === 'ok') break
      tt.equal(code, 'KV_TIMEOUT', `during-${i}, attempt ${attempt}: timed out at node 2`)
      if (++timedOut > 10) throw new Error('node 2 is never suspected')
    }
  }
  tt.comment(`${timedOut} writes timed out before node 2 was suspected`)
  for (let i = 0; i < 10; i++) {
    tt.equal((await db.get(`before-${i}`))?.value.toString(), `v${i}`)
    tt.equal((await db.get(`during-${i}`))?.value.toString(), `w${i}`)
  }

  const stop = (await db.admin.stopNode(2).catch((e: KvError) => e)) as KvError
  tt.equal(stop.code, 'KV_TIMEOUT', 'stopNode() of a node silent for controlTimeoutMs fails at once')
  tt.match(stop.message, /node 2 has answered nothing for \d+ ms: its thread is blocked or busy \(stop not sent\): call stopNode again once it answers/)
  tt.equal(db.admin.nodes().find((n) => n.id === 2)?.stopped, false, 'and the node is not marked stopped')

  await db.close() // node 2 does not answer its ping: it is terminated
  closed = true
  tt.equal(rt.threads(), 0, 'no thread left')
  tt.equal(await codeOf(db.admin.startNode(1)), 'KV_CLOSED', 'admin calls after close fail, not wait')

  const again = await open(opts)
  tt.teardown(() => again.close())
  for (let i = 0; i < 10; i++) {
    tt.equal((await again.get(`before-${i}`))?.value.toString(), `v${i}`, `before-${i} after reopening`)
    tt.equal((await again.get(`during-${i}`))?.value.toString(), `w${i}`, `during-${i} after reopening`)
  }
  tt.same((await again.admin.stats()).unresponsive, [], 'every node answers again')
})

t.test('a node blocked past nodeHangTimeoutMs is restarted by the watchdog; admin.nodes() says why; no acknowledged write is lost', async (tt) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-blocked-'))
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const db = await open({ dir, nodes: 3, replicas: 3, partitions: 16, durability: 'interval', replicaTimeoutMs: 300, nodeHangTimeoutMs: 3000, nodeNice: 0 })
  tt.teardown(() => db.close())
  const rt = (db.admin as unknown as { rt: Runtime }).rt
  const acked = new Map<string, string>()
  for (let i = 0; i < 10; i++) {
    await db.set(`k${i}`, `v${i}`, { w: 'ALL' })
    acked.set(`k${i}`, `v${i}`)
  }
  await blockNode(rt, 2, 60_000)
  for (let i = 0; acked.size < 40 && i < 1000; i++) {
    if ((await codeOf(db.set(`during-${i}`, `w${i}`))) === 'ok') acked.set(`during-${i}`, `w${i}`)
  }
  const t0 = Date.now()
  while (db.admin.nodes()[1]!.generation === 1 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50))
  const node2 = db.admin.nodes()[1]!
  tt.equal(node2.generation, 2, 'node 2 was restarted')
  tt.match(node2.lastExit, /watchdog: no answer to a heartbeat within 3000 ms/, 'nodes() says why')
  await db.admin.startNode(2) // waits until it is back
  await db.admin.drainHints({ timeoutMs: 10_000 })
  tt.same((await db.admin.stats()).unresponsive, [], 'every node answers')
  for (const [k, v] of acked) tt.equal((await db.get(k))?.value.toString(), v, `${k} reads back`)
})

t.test('controlTimeoutMs and nodeHangTimeoutMs: bad values are refused at open()', async (tt) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-blocked-'))
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  for (const bad of [0, -1, 1.5, '10', 11 * 60_000]) {
    tt.equal(await codeOf(open({ dir, nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, controlTimeoutMs: bad as never })), 'KV_INVALID_ARGUMENT', `controlTimeoutMs ${String(bad)}`)
  }
  for (const bad of [-1, 1.5, '10', 999, 11 * 60_000]) {
    tt.equal(await codeOf(open({ dir, nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, nodeHangTimeoutMs: bad as never })), 'KV_INVALID_ARGUMENT', `nodeHangTimeoutMs ${String(bad)}`)
  }
})
