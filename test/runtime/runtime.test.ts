// The runtime end to end: real node workers, real rings. Ordering, no loss under random
// sizes, wrap-around and backpressure, messages larger than a ring, nested requests
// all-to-all, deadlines, bad input, a node crashing mid-request, shutdown with messages in
// flight. Every loop is bounded in count and time; randomized parts print their seed.

import path from 'node:path'
import net from 'node:net'
import t from 'tap'
import { messageBytesMax } from '../../lib/constants'
import { isKvError, type KvError } from '../../lib/errors'
import { Runtime } from '../../lib/runtime'
import { niceMax, threadNice, threadTimes } from '../../lib/runtime/thread'
import { makePrng, seedFromEnv } from '../../lib/util'
import { blockNode } from '../support/block_node'
import { A, SINK_SUMMARY, sinkPayload, TYPED_KNOWN, type SinkSummary } from './fixtures/test_node'

const setupModule = path.join(__dirname, 'fixtures', 'test_node.js')
const seed = seedFromEnv()
t.comment(`seed ${seed} (RINGWOOD_SEED=${seed} reproduces)`)

function u32(...xs: number[]): Uint8Array {
  const out = new Uint8Array(4 * xs.length)
  const dv = new DataView(out.buffer)
  xs.forEach((x, i) => dv.setUint32(4 * i, x, true))
  return out
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

async function summary(rt: Runtime, node: number): Promise<SinkSummary> {
  return JSON.parse(Buffer.from(await rt.endpoint.requestAsync(node, A.SINK, SINK_SUMMARY, new Uint8Array(0))).toString()) as SinkSummary
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (err) {
    return isKvError(err) ? err.code : `not a KvError: ${String(err)}`
  }
}

function codeOfSync(fn: () => void): string {
  try {
    fn()
    return 'ok'
  } catch (err) {
    return isKvError(err) ? err.code : `not a KvError: ${String(err)}`
  }
}

t.test('per-sender ordering, no loss, no duplicates: random sizes, wrap-around, backpressure, fragments', async (t) => {
  const prng = makePrng(seed)
  // Small rings: wrap-around every few messages, full rings all the time, big messages split.
  const rt = await Runtime.start({ nodes: 2, setupModule, ringBytes: 8192 })
  t.teardown(() => rt.close())
  const count = 3000
  let bytes = 0
  let sent = 0
  const started = Date.now()
  for (let seq = 1; seq <= count && Date.now() - started < 20_000; seq++) {
    sent = seq
    const len = prng.bool(0.02) ? prng.range(3000, 40_000) : prng.int(600)
    bytes += len
    rt.endpoint.send(1, A.SINK, 3, sinkPayload(0, seq, prng.bytes(len)))
    // node 2 gets the same stream as requests (responses interleave with the stream)
    if (seq % 3 === 0) rt.endpoint.request(2, A.SINK, 3, sinkPayload(0, seq / 3, prng.bytes(len)), () => {})
    if (seq % 500 === 0) await new Promise((r) => setImmediate(r))
  }
  t.ok(rt.endpoint.stats.queued > 0, `backpressure happened: ${rt.endpoint.stats.queued} messages waited in the queue`)
  const s1 = await summary(rt, 1)
  const s2 = await summary(rt, 2)
  t.equal(s1.received, sent, `node 1 got all ${sent} messages (${bytes} payload bytes)`)
  t.equal(s1.orderErrors, 0, 'in send order, no gaps, no duplicates')
  t.equal(s1.hashErrors, 0, 'payloads intact')
  t.equal(s2.received, Math.floor(sent / 3), 'node 2 got every request')
  t.equal(s2.orderErrors + s2.hashErrors, 0, 'node 2: in order and intact')
})

t.test('echo of random sizes round-trips byte for byte, up to a message far larger than a ring', async (t) => {
  const prng = makePrng(seed ^ 0x5a5a)
  const rt = await Runtime.start({ nodes: 1, setupModule, ringBytes: 16384 })
  t.teardown(() => rt.close())
  const sizes = [0, 1, 7, 8, 4064, 4065, 100_000, 1 << 20, ...Array.from({ length: 200 }, () => prng.int(5000))]
  const bodies = sizes.map((n) => prng.bytes(n))
  const replies = await Promise.all(bodies.map((b) => rt.endpoint.requestAsync(1, A.ECHO, 5, b)))
  let bad = 0
  replies.forEach((r, i) => (bad += Buffer.compare(Buffer.from(r), bodies[i]!) === 0 ? 0 : 1))
  t.equal(bad, 0, `${sizes.length} echoes identical`)
})

t.test('2 to 8 workers requesting all-to-all, nested through FORWARD (deadlock-free)', async (t) => {
  for (const nodes of [2, 5, 8]) {
    const rt = await Runtime.start({ nodes, setupModule, ringBytes: 8192 })
    const ids = rt.nodeIds()
    const started = Date.now()
    // every node fans out to every node (itself included)
    const fan = ids.map((n) => rt.endpoint.requestAsync(n, A.FANOUT, 0, Buffer.from(JSON.stringify({ targets: ids, count: 150, bytes: 200 }))))
    // and nested: supervisor -> a -> FORWARD -> b's FORWARD -> c's echo, for many triples at once
    const nested: Promise<Uint8Array>[] = []
    for (let i = 0; i < 300; i++) {
      const a = ids[i % nodes]!
      const b = ids[(i * 7 + 1) % nodes]!
      const c = ids[(i * 3 + 2) % nodes]!
      const inner = concat(u32(c, A.ECHO), u32(i))
      nested.push(rt.endpoint.requestAsync(a, A.FORWARD, 1, concat(u32(b, A.FORWARD), inner), { timeoutMs: 20_000 }))
    }
    const results = (await Promise.all(fan)).map((r) => JSON.parse(Buffer.from(r).toString()) as { bad: number; failed: number })
    t.same(results.map((r) => r.bad + r.failed), ids.map(() => 0), `${nodes} nodes: every fan-out echo came back intact`)
    const nestedOut = await Promise.all(nested)
    t.ok(nestedOut.every((r, i) => r.length === 4 && new DataView(r.buffer, r.byteOffset).getUint32(0, true) === i), `${nodes} nodes: 300 doubly nested requests answered`)
    t.comment(`${nodes} nodes: ${nodes * nodes * 150} fan-out + 300 nested requests in ${Date.now() - started} ms`)
    const res = await rt.close()
    t.equal(rt.threads(), 0, 'no thread left')
    t.same(res, { requestsFailed: 0, messagesUndelivered: 0 })
  }
})

t.test('bad input: a clear error, nothing lost', async (t) => {
  const rt = await Runtime.start({ nodes: 1, setupModule })
  t.teardown(() => rt.close())
  const ep = rt.endpoint
  const before = await summary(rt, 1)
  ep.send(1, A.SINK, 3, sinkPayload(7, 1, new Uint8Array(10)))
  t.equal(codeOfSync(() => ep.send(1, A.SINK, 3, new Uint8Array(messageBytesMax + 1))), 'KV_INVALID_ARGUMENT', 'oversized message refused')
  t.equal(await codeOf(ep.requestAsync(1, A.ECHO, 1, new Uint8Array(messageBytesMax + 1))), 'KV_INVALID_ARGUMENT', 'oversized request refused')
  t.equal(await codeOf(ep.requestAsync(1, 999, 1, new Uint8Array(1))), 'KV_INVALID_ARGUMENT', 'request to an unknown actor')
  t.equal(await codeOf(ep.requestAsync(1, A.TYPED, 77, new Uint8Array(1))), 'KV_INVALID_ARGUMENT', 'unknown message type')
  t.equal(await codeOf(ep.requestAsync(1, A.TYPED, TYPED_KNOWN, new Uint8Array(1))), 'ok', 'a known type still works')
  t.equal(codeOfSync(() => ep.send(9, A.ECHO, 1, new Uint8Array(1))), 'KV_UNAVAILABLE', 'unknown node')
  t.equal(codeOfSync(() => ep.send(1, -1, 1, new Uint8Array(1))), 'KV_INVALID_ARGUMENT', 'bad actor id')
  t.equal(codeOfSync(() => ep.send(1, A.ECHO, 70000, new Uint8Array(1))), 'KV_INVALID_ARGUMENT', 'bad message type')
  ep.send(1, 999, 1, new Uint8Array(3)) // one-way to an unknown actor: counted on the node
  ep.send(1, A.SINK, 3, sinkPayload(7, 2, new Uint8Array(10)))
  const after = await summary(rt, 1)
  t.equal(after.received - before.received, 2, 'messages around the bad ones all arrived')
  t.equal(after.orderErrors, 0)
  const stats = await rt.control(1).stats()
  t.equal(stats.unknownActor, 2, 'the node counted both messages to an unknown actor')
  t.equal(await codeOf(ep.requestAsync(1, A.SLOW, 0, u32(2000), { timeoutMs: 30 })), 'KV_TIMEOUT', 'a deadline fails the request')
})

t.test('a thread blocked past a deadline fails no request answered in time, nor one it had not yet published', async (t) => {
  const rt = await Runtime.start({ nodes: 1, setupModule })
  t.teardown(() => rt.close())
  const ep = rt.endpoint
  t.equal(await codeOf(ep.requestAsync(1, A.ECHO, 0, new Uint8Array(1))), 'ok', 'warm')
  for (const publishedFirst of [true, false]) {
    const answered: string[] = []
    for (let round = 0; round < 3; round++) {
      const p = codeOf(ep.requestAsync(1, A.ECHO, 0, new Uint8Array(8), { timeoutMs: publishedFirst ? 100 : 300 }))
      // Published (the node answers at once) and read only after the block; or written into the
      // ring now and published by the flush after the block, when its 300 ms start (§3).
      if (publishedFirst) await new Promise((r) => setImmediate(r))
      const until = Date.now() + 500
      while (Date.now() < until);
      answered.push(await p)
    }
    t.same(answered, ['ok', 'ok', 'ok'], publishedFirst ? 'answered before the block: not timed out' : 'published after the block: not timed out')
  }
  t.equal(await codeOf(ep.requestAsync(1, A.SLOW, 0, u32(2000), { timeoutMs: 30 })), 'KV_TIMEOUT', 'a published request still times out')
})

t.test('a request whose deadline passes while it waits in the overflow queue says its destination never saw it', async (t) => {
  const rt = await Runtime.start({ nodes: 1, setupModule, ringBytes: 8192 })
  t.teardown(() => rt.close())
  const ep = rt.endpoint
  t.equal(await codeOf(ep.requestAsync(1, A.ECHO, 0, new Uint8Array(1))), 'ok', 'warm')
  const receivedBefore = (await rt.control(1).stats()).received
  // In one synchronous run, 20 requests of 1000 bytes: the first fill the ring (published by
  // the flush after the block, their budgets starting then), the rest wait in the overflow
  // queue, whose deadlines pass during the block.
  const outcomes = Array.from({ length: 20 }, () =>
    ep.requestAsync(1, A.ECHO, 0, new Uint8Array(1000), { timeoutMs: 150 }).then(
      () => 'ok',
      (e: KvError) => `${e.code} published:${String(e.details['published'])}`,
    ),
  )
  const until = Date.now() + 400
  while (Date.now() < until);
  const got = await Promise.all(outcomes)
  const ok = got.filter((g) => g === 'ok').length
  t.ok(ok >= 4 && ok < 20, `those in the ring were answered (${ok})`)
  t.same(got.slice(ok), Array(20 - ok).fill('KV_TIMEOUT published:false'), 'those left in the queue failed as never seen')
  t.equal((await rt.control(1).stats()).received - receivedBefore, ok, 'and were never sent')
})

t.test('a node crashing mid-request: KV_UNAVAILABLE within a bounded time, then restart', async (t) => {
  const downs: number[] = []
  const rt = await Runtime.start({ nodes: 3, setupModule, restartBackoffMsMin: 20 })
  t.teardown(() => rt.close())
  rt.onPeer((id, up) => !up && downs.push(id))
  const ep = rt.endpoint
  t.equal(rt.generationOf(2), 1)
  // in flight to node 2: our own slow request, and node 1's and node 3's requests to node 2
  // codeOf attaches a handler at once: any of the three may fail before the test awaits it
  const slow = codeOf(ep.requestAsync(2, A.SLOW, 0, u32(5000)))
  const viaNode1 = codeOf(ep.requestAsync(1, A.FORWARD, 0, concat(u32(2, A.SLOW), u32(5000))))
  const viaNode3 = codeOf(ep.requestAsync(3, A.FORWARD, 0, concat(u32(2, A.SLOW), u32(5000))))
  await new Promise((r) => setTimeout(r, 50))
  const t0 = Date.now()
  ep.send(2, A.CRASH, 0, new Uint8Array(0)) // an assertion-like throw inside a handler kills the node
  t.equal(await slow, 'KV_UNAVAILABLE', 'our request failed')
  t.equal(await viaNode1, 'KV_UNAVAILABLE', "node 1's request to node 2 failed")
  t.equal(await viaNode3, 'KV_UNAVAILABLE', "node 3's request to node 2 failed")
  const took = Date.now() - t0
  t.ok(took < 5000, `failed within ${took} ms`)
  t.same(downs, [2], 'a node-down event')
  t.equal(codeOfSync(() => ep.send(2, A.ECHO, 1, new Uint8Array(1))), rt.isUp(2) ? 'ok' : 'KV_UNAVAILABLE', 'sends to a down node are refused')
  await rt.waitUp(2)
  t.equal(rt.generationOf(2), 2, 'restarted with a new generation')
  t.equal(Buffer.from(await ep.requestAsync(2, A.ECHO, 1, Buffer.from('back'))).toString(), 'back', 'the restarted node answers')
  t.equal(Buffer.from(await ep.requestAsync(1, A.FORWARD, 0, concat(u32(2, A.ECHO), Buffer.from('peer')))).toString(), 'peer', 'its peers reach it again')
  // the control plane: kill node 3 from the test, as an operator would
  await rt.kill(3)
  await rt.waitUp(3)
  t.equal(await rt.control(3).ping(), 'pong')
  t.equal(await rt.control(3).call('generation'), 2)
})

t.test('shutdown with messages in flight: every request settles, no thread is left', async (t) => {
  const prng = makePrng(seed ^ 0x77)
  const rt = await Runtime.start({ nodes: 3, setupModule })
  const ep = rt.endpoint
  const all: Promise<string>[] = []
  for (let i = 0; i < 3000; i++) {
    const node = 1 + (i % 3)
    const p = prng.bool(0.05) ? ep.requestAsync(node, A.SLOW, 0, u32(prng.int(20))) : ep.requestAsync(node, A.ECHO, 1, prng.bytes(prng.int(2000)))
    all.push(codeOf(p))
    if (i % 7 === 0) ep.send(node, A.SINK, 3, sinkPayload(1, i / 7 + 1, new Uint8Array(100)))
  }
  // these cannot finish before close gives up waiting (closeDrainMs): they must fail, not hang
  const stuck = [1, 2, 3].map((node) => codeOf(ep.requestAsync(node, A.SLOW, 0, u32(60_000), { timeoutMs: 120_000 })))
  const t0 = Date.now()
  const closed = await rt.close()
  t.same(await Promise.all(stuck), ['KV_CLOSED', 'KV_CLOSED', 'KV_CLOSED'], 'requests still running at close fail with KV_CLOSED')
  t.ok(closed.requestsFailed >= 3, `close reports ${closed.requestsFailed} failed requests`)
  const codes = await Promise.all(all)
  t.ok(Date.now() - t0 < 10_000, `closed in ${Date.now() - t0} ms`)
  const bad = codes.filter((c) => c !== 'ok' && c !== 'KV_CLOSED')
  t.same(bad, [], 'every request was answered or failed with KV_CLOSED')
  t.comment(`answered ${codes.filter((c) => c === 'ok').length}, failed ${closed.requestsFailed}, undelivered one-way ${closed.messagesUndelivered}`)
  t.equal(rt.threads(), 0, 'no thread left')
  t.equal(codeOfSync(() => ep.send(1, A.ECHO, 1, new Uint8Array(1))), 'KV_CLOSED', 'sends after close are refused')
})

t.test('failFast: a full ring gives a retryable KV_OVERLOADED and loses nothing', async (t) => {
  const rt = await Runtime.start({ nodes: 1, setupModule, ringBytes: 4096 })
  t.teardown(() => rt.close())
  const ep = rt.endpoint
  let sent = 0
  let overloaded: KvError | undefined
  for (let i = 0; i < 10_000 && overloaded === undefined; i++) {
    try {
      ep.send(1, A.SINK, 3, sinkPayload(5, sent + 1, new Uint8Array(200)), { failFast: true })
      sent++
    } catch (err) {
      overloaded = err as KvError
    }
  }
  t.ok(isKvError(overloaded, 'KV_OVERLOADED') && overloaded.retryable, `KV_OVERLOADED after ${sent} sends`)
  const s = await summary(rt, 1)
  t.equal(s.received, sent, 'every accepted message arrived')
  t.equal(s.orderErrors, 0)
})

t.test('nodeNice: each node thread runs that many nice levels below the caller; 0 leaves it; bad values are refused', async (t) => {
  const base = threadNice()
  const rt = await Runtime.start({ nodes: 2, setupModule, nodeNice: 5 })
  t.teardown(() => rt.close())
  const plain = await Runtime.start({ nodes: 1, setupModule })
  t.teardown(() => plain.close())
  if (base === undefined) {
    t.equal((await rt.control(1).stats()).threadNice, null, 'no thread priorities on this platform: reported as null')
  } else if (base < niceMax) {
    for (const id of [1, 2]) t.equal((await rt.control(id).stats()).threadNice, Math.min(niceMax, base + 5), `node ${id} runs at nice ${base} + 5`)
    t.equal((await plain.control(1).stats()).threadNice, base, 'the default (0) leaves the priority alone')
    t.equal(threadNice(), base, "the caller's own priority is unchanged")
  }
  for (const bad of [-1, 20, 1.5, Number.NaN]) {
    t.equal(await codeOf(Runtime.start({ nodes: 1, setupModule, nodeNice: bad })), 'KV_INVALID_ARGUMENT', `nodeNice ${bad} refused`)
  }
})

t.test("threadTimes: a thread's CPU time and run-queue wait, in node stats too", async (t) => {
  const before = threadTimes()
  if (before === undefined) {
    t.comment('no /proc/thread-self/schedstat here')
    return
  }
  let x = 0
  const until = performance.now() + 30
  while (performance.now() < until) x += Math.sqrt(x + 1) // run for a while
  const after = threadTimes()!
  t.ok(after.cpuMs > before.cpuMs, `cpu time grew while running (${(after.cpuMs - before.cpuMs).toFixed(1)} ms, x=${x > 0})`)
  t.ok(after.runQueueWaitMs >= before.runQueueWaitMs && after.atMs > before.atMs, 'wait and clock never go back')
  const rt = await Runtime.start({ nodes: 1, setupModule })
  t.teardown(() => rt.close())
  const node = (await rt.control(1).stats()).threadTimes
  t.ok(node !== null && node.cpuMs > 0 && node.runQueueWaitMs >= 0, "a node reports its own thread's times")
})

t.test('a node whose restarts keep failing: the supervisor gives up, and waitUp says so', async (t) => {
  const rt = await Runtime.start({ nodes: 2, setupModule, setupData: { failRestartsOf: 2 }, restartBackoffMsMin: 1, restartBackoffMsMax: 1 })
  t.teardown(() => rt.close())
  await rt.kill(2)
  const err = await rt.waitUp(2).then(() => undefined, (e: { code?: string; message?: string }) => e)
  t.equal(err?.code, 'KV_UNAVAILABLE', `waitUp rejects: ${err?.message}`)
  t.match(err?.message, /failed to start 21 times in a row \(last: setup failed: Error: node 2: setup fails on restart \(test\)\).*close and reopen/, 'and says why')
  t.equal(rt.isReady(2), false)
  t.equal((await rt.waitUp(2).catch((e: { code?: string }) => e))?.code, 'KV_UNAVAILABLE', 'and at once for a later call')
  t.equal(await rt.control(1).ping(), 'pong', 'the other node runs on')
})

t.test('a control call to a blocked node fails KV_TIMEOUT at its deadline, one to a node that exits fails KV_UNAVAILABLE; comlink alone would wait for good', async (t) => {
  const rt = await Runtime.start({ nodes: 2, setupModule, restartBackoffMsMin: 20 })
  t.teardown(() => rt.close())
  t.equal(await rt.call(1, 'ping', (c) => c.ping(), 1000), 'pong', 'a node that answers')
  const err = await blockNode(rt, 1, 3000)
  t.equal(err.code, 'KV_TIMEOUT')
  t.match(err.message, /node 1 did not answer ping within 200 ms/)
  t.equal(await rt.call(2, 'ping', (c) => c.ping(), 1000), 'pong', 'the other node answers meanwhile')
  await blockNode(rt, 2, 60_000)
  const pending = rt.call(2, 'ping', (c) => c.ping(), 60_000).catch((e: KvError) => e)
  await rt.kill(2) // terminates even a blocked thread
  const gone = (await pending) as KvError
  t.equal(gone.code, 'KV_UNAVAILABLE', 'the node exited first')
  t.match(gone.message, /node 2 exited before it answered ping/)
  await rt.waitUp(2)
  t.equal(await rt.call(2, 'ping', (c) => c.ping(), 1000), 'pong', 'its restart answers')
})

t.test('a node already silent for a call\'s deadline is not asked again: the call fails at once, and calls go out again once it answers', async (t) => {
  const rt = await Runtime.start({ nodes: 1, setupModule })
  t.teardown(() => rt.close())
  await blockNode(rt, 1, 3000) // its ping of 200 ms went unanswered
  await new Promise((r) => setTimeout(r, 400))
  let sent = false
  const ask = (timeoutMs: number): Promise<string | KvError> =>
    rt.call(1, 'ping', (c) => {
      sent = true
      return c.ping()
    }, timeoutMs).catch((e: KvError) => e)
  const fast = (await ask(300)) as KvError
  t.equal(fast.code, 'KV_TIMEOUT')
  t.equal(sent, false, 'nothing was sent to a node silent for longer than the deadline')
  t.equal(fast.details['sent'], false, 'and the error says so')
  t.match(fast.message, /node 1 has answered nothing for \d+ ms: its thread is blocked or busy \(ping not sent\)/)
  t.equal(await ask(20_000), 'pong', 'a call with a longer deadline is sent, and answered once the node unblocks')
  t.equal(sent, true)
  t.equal(await ask(1000), 'pong', 'once it has answered, short calls go out again')

  // Judged after this thread has read its port once more, even for a call made from a
  // socket's callback (the immediates it queues run before the next poll): here the node's
  // late answer waits in the port while this thread is held.
  const server = net.createServer((socket) => socket.end('x'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  await blockNode(rt, 1, 1000)
  const held = await new Promise<string | KvError>((resolve) => {
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
    socket.once('data', () => {
      const until = Date.now() + 2500
      while (Date.now() < until); // the node unblocks and answers meanwhile
      resolve(ask(300))
      socket.destroy()
    })
  })
  t.equal(held, 'pong', 'a node whose answer waits in the port is asked')
})

t.test('a long control call is not silence, within its deadline or past it when slow: calls made meanwhile go out and are answered', async (t) => {
  const rt = await Runtime.start({ nodes: 1, setupModule })
  t.teardown(() => rt.close())
  const sleep = (ms: number, timeoutMs: number, slow: boolean): Promise<unknown> =>
    rt.call(1, 'sleep', (c) => c.call('sleep', ms) as Promise<unknown>, timeoutMs, { slow }).catch((e: KvError) => e.code)
  const long = sleep(3000, 60_000, false)
  const late = sleep(3000, 300, true) // (a stop that flushes past its deadline)
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 600))
    t.equal(await rt.call(1, 'ping', (c) => c.ping(), 500), 'pong', `ping ${i + 1} while the long calls run`)
  }
  t.equal(await long, 'slept')
  t.equal(await late, 'KV_TIMEOUT', 'the slow call failed at its deadline')
})

t.test('the watchdog: a node that answers no heartbeat within hangTimeoutMs is terminated and restarted; a busy but answering node is left alone', async (t) => {
  const rt = await Runtime.start({ nodes: 2, setupModule, restartBackoffMsMin: 20, hangTimeoutMs: 3000 })
  t.teardown(() => rt.close())
  t.equal(rt.lastExitOf(1), undefined, 'no worker has ended yet')
  await rt.control(2).block(2000) // longer than a heartbeat's interval, shorter than hangTimeoutMs: late, not hung
  await rt.control(1).block(60_000)
  await rt.waitUp(2)
  const t0 = Date.now()
  while (rt.generationOf(1) === 1 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50))
  t.equal(rt.generationOf(1), 2, 'the hung node was restarted')
  t.match(rt.lastExitOf(1), /terminated by the watchdog: no answer to a heartbeat within 3000 ms/, 'and says why')
  await rt.waitUp(1)
  t.equal(await rt.call(1, 'ping', (c) => c.ping(), 1000), 'pong', 'its new worker answers')
  t.equal(rt.generationOf(2), 1, 'the node that was slow for less than hangTimeoutMs was not restarted')
  t.equal(await codeOf(Runtime.start({ nodes: 1, setupModule, hangTimeoutMs: -1 })), 'KV_INVALID_ARGUMENT', 'a negative hangTimeoutMs is refused')
})

t.test("a caller's thread held past a control call's deadline does not fail the call, nor make the watchdog end a node that answered meanwhile", async (t) => {
  const rt = await Runtime.start({ nodes: 1, setupModule, hangTimeoutMs: 1000 })
  t.teardown(() => rt.close())
  // Held from a setImmediate callback: the loop runs its timers next, before it reads the port.
  // (Wrapped: resolving with the promise itself would adopt it.)
  const late = await new Promise<{ call: Promise<string> }>((resolve) => {
    setImmediate(() => {
      const call = rt.call(1, 'ping', (c) => c.ping(), 300)
      const until = Date.now() + 2500
      while (Date.now() < until); // this thread busy past both deadlines; the node answers at once
      resolve({ call })
    })
  })
  t.equal(await late.call, 'pong', 'the answer waiting in the port is taken before the deadline is judged')
  // Held in spells of 1.5 s, each from a setImmediate callback: a heartbeat sent between two
  // spells is answered during the next one, and its 1 s deadline passes before the port is read.
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setImmediate(r))
    const spell = Date.now() + 1500
    while (Date.now() < spell);
  }
  await new Promise((r) => setTimeout(r, 500))
  t.equal(rt.generationOf(1), 1, 'the watchdog did not end the node, which answered every heartbeat')
})
