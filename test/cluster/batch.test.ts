// Replica batches (PROTOCOL.md §9.7): the wire format (round trips, exact bytes, malformed
// input), the node's batch actor (items served in order, per-item failures, a stopped node)
// on a real engine through an in-thread transport, and the driver's outbox (batches per node,
// the item and byte caps, whole-batch failures fanned out to every item).

import t from 'tap'
import { KvError } from '../../lib/errors'
import { Engine } from '../../lib/storage'
import { systemClock } from '../../lib/util/clock'
import type { IncomingMessage, MessageHandler, ReplyTarget, ResponseCallback, Transport } from '../../lib/transport'
import { BatchItems, BatchReader, BatchReplyWriter, ItemStatus } from '../../lib/cluster/wire/batch_wire'
import { BatchType, VNODE_BATCH_ACTOR, VnodeType } from '../../lib/cluster/wire/actors'
import { decodeObjectReply, decodeWriteReply, encodeKeyed, encodeObjectReply, encodeWrite } from '../../lib/cluster/wire/replica_wire'
import { registerVnodes, type VnodeHost } from '../../lib/cluster/node/vnode_actor'
import { VnodeStore } from '../../lib/cluster/node/vnode_store'
import { HintStore } from '../../lib/cluster/node/hint_store'
import { ReplicaOutbox } from '../../lib/cluster/driver/replica_outbox'
import { PreferenceTable, RequestDriver, SuspicionTable, claim, decodeObject, keepSiblings } from '../../lib/cluster'
import { ManualClock } from '../../lib/util/clock'
import { replicaBatchItemsMax } from '../../lib/constants'
import { errorCode as code, tempDir } from '../support/tmp'

function readAll(buf: Buffer, request: boolean): { kind: number; partition: number; payload: Buffer }[] {
  const r = new BatchReader()
  r.reset(buf, request)
  const out = []
  while (r.next()) out.push({ kind: r.kind, partition: r.partition, payload: Buffer.from(r.payload()) })
  return out
}

t.test('a BATCH request carries each item as its §9.2 payload', async (tt) => {
  const items = new BatchItems()
  const key = Buffer.from('k')
  items.addKeyed(VnodeType.READ, 3, 0, key, undefined)
  items.addKeyed(VnodeType.REPLICATE, 200, 5, key, Buffer.from([9, 9]))
  const write = encodeWrite({ key, value: Buffer.from('v'), ttlMs: undefined, context: undefined })
  items.addRaw(VnodeType.WRITE, 7, write)
  const buf = items.encode()
  tt.equal(buf.length, items.bytes - 4 + 1, 'the size estimate is exact but for the count varint')
  tt.same(readAll(buf, true), [
    { kind: VnodeType.READ, partition: 3, payload: encodeKeyed(0, key, undefined) },
    { kind: VnodeType.REPLICATE, partition: 200, payload: encodeKeyed(5, key, Buffer.from([9, 9])) },
    { kind: VnodeType.WRITE, partition: 7, payload: write },
  ])
  const one = new BatchItems()
  one.addKeyed(VnodeType.READ, 1, 0, key, undefined)
  // u8 1, count 1 | type 3, partition 1, length 4, (u8 1, hintFor 0, keyLength 1, 'k')
  tt.same([...one.encode()], [1, 1, 3, 1, 4, 1, 0, 1, 0x6b], 'exact bytes')
})

t.test('a BATCH response: ok, object and error items in request order', async (tt) => {
  const w = new BatchReplyWriter(4)
  w.setObject(1, Buffer.from([7, 7]))
  w.set(0, ItemStatus.OK, Buffer.from([1]))
  w.setObject(2, undefined)
  w.set(3, ItemStatus.ERROR, Buffer.from('KV_OVERLOADED\0full'))
  const got = readAll(w.encode(), false)
  tt.same(got.map((i) => i.kind), [ItemStatus.OK, ItemStatus.OK, ItemStatus.OK, ItemStatus.ERROR])
  tt.same(got[1]!.payload, encodeObjectReply(Buffer.from([7, 7])), 'setObject writes the READ answer')
  tt.same(decodeObjectReply(got[2]!.payload), undefined, 'not found')
  tt.same([...new BatchReplyWriter(0).encode()], [1, 0])
})

t.test('malformed batches are KV_CORRUPTION, other versions KV_UNSUPPORTED_VERSION', async (tt) => {
  const all = (b: number[], request = false) => () => readAll(Buffer.from(b), request)
  tt.equal(code(all([2, 0])), 'KV_UNSUPPORTED_VERSION')
  tt.equal(code(all([1, 2, 0, 1, 1])), 'KV_CORRUPTION', 'fewer items than the count')
  tt.equal(code(all([1, 1, 0, 1, 1, 9])), 'KV_CORRUPTION', 'bytes after the last item')
  tt.equal(code(all([1, 1, 0, 5, 1])), 'KV_CORRUPTION', 'an item past the end')
  tt.equal(code(all([1, 1, 3, 1, 1])), 'KV_CORRUPTION', 'unknown status')
  tt.equal(code(all([1, 1, 3, 1, 1, 1], true)), undefined, 'a request item has a type, not a status')
})

// ---- an in-thread transport: handlers called directly, replies captured ----

interface Reply {
  payload?: Buffer
  error?: KvError
}

class DirectTransport implements Transport {
  readonly self = 1
  readonly handlers = new Map<number, MessageHandler>()
  readonly replies = new Map<number, Reply>()
  requests: { to: number; actor: number; type: number; payload: Buffer; cb: ResponseCallback; timeoutMs: number | undefined }[] = []
  throwOnRequest: KvError | undefined
  private nextId = 1

  register(actor: number, handler: MessageHandler): void {
    this.handlers.set(actor, handler)
  }
  unregister(actor: number): void {
    this.handlers.delete(actor)
  }
  send(): void {}
  request(to: number, actor: number, type: number, payload: Uint8Array, cb: ResponseCallback, opts?: { timeoutMs?: number }): void {
    if (this.throwOnRequest !== undefined) throw this.throwOnRequest
    this.requests.push({ to, actor, type, payload: Buffer.from(payload), cb, timeoutMs: opts?.timeoutMs })
  }
  requestAsync(): Promise<Uint8Array> {
    throw new Error('unused')
  }
  reply(target: ReplyTarget, payload: Uint8Array): void {
    this.replies.set(target.requestId, { payload: Buffer.from(payload) })
  }
  replyError(target: ReplyTarget, err: KvError): void {
    this.replies.set(target.requestId, { error: err })
  }
  isUp(): boolean {
    return true
  }
  nodes(): number[] {
    return [1]
  }
  onNodeEvent(): () => void {
    return () => undefined
  }
  readInbound(): void {} // replies are handed over by the test itself

  /** Delivers a request to an actor here; resolves with its reply. The view is overwritten after the call, as the runtime's is. */
  async deliver(actor: number, type: number, payload: Buffer): Promise<Reply> {
    const id = this.nextId++
    const bytes = Buffer.alloc(payload.length + 8)
    payload.copy(bytes, 8)
    const target: ReplyTarget = { from: 2, requestId: id, generation: 1, type, actor, deadlineMs: Infinity }
    const msg: IncomingMessage = {
      ...target,
      fromActor: 0,
      isRequest: true,
      bytes,
      offset: 8,
      length: payload.length,
      payload: bytes.subarray(8),
      copyPayload: () => Uint8Array.prototype.slice.call(bytes, 8),
      replyTarget: () => target,
    }
    try {
      this.handlers.get(actor)!(msg)
    } catch (err) {
      this.replies.set(id, { error: err as KvError })
    }
    bytes.fill(0xee) // the view is reused after the handler returns
    for (let i = 0; i < 100 && !this.replies.has(id); i++) await new Promise((r) => setTimeout(r, 5))
    return this.replies.get(id)!
  }
}

t.test('the batch actor serves items in order, each answered on its own', async (tt) => {
  const dir = tempDir(tt)
  const engine = await Engine.open(dir, {})
  tt.teardown(() => engine.close())
  const policy = { kind: 'siblings' } as const
  const host: VnodeHost = {
    store: new VnodeStore(engine, policy, 11, systemClock),
    hints: HintStore.load(engine, policy, systemClock, () => false, () => undefined),
    dropped: 0,
  }
  tt.teardown(() => host.hints?.close())
  const tr = new DirectTransport()
  registerVnodes(tr, 8, host)
  const key = Buffer.from('key')
  const items = new BatchItems()
  items.addKeyed(VnodeType.READ, 2, 0, key, undefined)
  items.addRaw(VnodeType.WRITE, 2, encodeWrite({ key, value: Buffer.from('v1'), ttlMs: undefined, context: undefined }))
  items.addKeyed(VnodeType.READ, 2, 0, key, undefined)
  items.addRaw(VnodeType.WRITE, 2, Buffer.from([1, 0x80, 1, 0x6b])) // an unknown write flag
  items.addKeyed(VnodeType.READ, 3, 0, key, undefined)
  const reply = await tr.deliver(VNODE_BATCH_ACTOR, BatchType.BATCH, items.encode())
  tt.equal(reply.error, undefined)
  const got = readAll(reply.payload!, false)
  tt.equal(got.length, 5, 'one answer per item')
  tt.equal(decodeObjectReply(got[0]!.payload), undefined, 'a read before the write finds nothing')
  const written = decodeWriteReply(got[1]!.payload)
  tt.equal(decodeObject(written.object).siblings[0]!.value.toString(), 'v1')
  tt.same(decodeObjectReply(got[2]!.payload), written.object, 'a read after the write in the same batch sees it')
  tt.same([got[3]!.kind, got[3]!.payload.toString().split('\0')[0]], [ItemStatus.ERROR, 'KV_CORRUPTION'], 'a bad item fails alone')
  tt.equal(decodeObjectReply(got[4]!.payload), undefined, 'another partition is another key space')

  const bad = new BatchItems()
  bad.addKeyed(VnodeType.REPAIR, 2, 0, key, Buffer.from([1]))
  tt.equal((await tr.deliver(VNODE_BATCH_ACTOR, BatchType.BATCH, bad.encode())).error?.code, 'KV_CORRUPTION', 'REPAIR is not a batch item')
  const outside = new BatchItems()
  outside.addKeyed(VnodeType.READ, 8, 0, key, undefined)
  tt.equal((await tr.deliver(VNODE_BATCH_ACTOR, BatchType.BATCH, outside.encode())).error?.code, 'KV_CORRUPTION', 'a partition outside the ring')
  host.store = undefined
  tt.equal((await tr.deliver(VNODE_BATCH_ACTOR, BatchType.BATCH, items.encode())).error?.code, 'KV_UNAVAILABLE', 'a stopped node refuses the whole batch')
})

t.test('the outbox: one batch per node per run, caps, and whole-batch failures reach every item', async (tt) => {
  const tr = new DirectTransport()
  const answers: { node: number; a: string; err?: string; resp?: number[] }[] = []
  const ob = new ReplicaOutbox<string, number>(tr, systemClock, (node, a, _b, err, resp) => {
    answers.push({ node, a, err: err?.code, resp: resp && [...resp] })
  })
  const key = Buffer.from('k')
  ob.addKeyed(1, 'x', 0, 500, VnodeType.READ, 0, 0, key, undefined)
  ob.addKeyed(2, 'y', 0, 300, VnodeType.READ, 0, 0, key, undefined)
  ob.addKeyed(1, 'z', 0, 200, VnodeType.READ, 1, 0, key, undefined)
  tt.equal(tr.requests.length, 0, 'nothing leaves during the run')
  await Promise.resolve()
  tt.same(tr.requests.map((r) => [r.to, r.actor, r.type, readAll(r.payload, true).length, r.timeoutMs]), [
    [1, VNODE_BATCH_ACTOR, BatchType.BATCH, 2, 500],
    [2, VNODE_BATCH_ACTOR, BatchType.BATCH, 1, 300],
  ], 'one batch per node; its timeout is the largest item budget')
  const [b1, b2] = tr.requests
  const w = new BatchReplyWriter(2)
  w.setObject(0, Buffer.from([5]))
  w.set(1, ItemStatus.ERROR, Buffer.from('KV_TOO_MANY_SIBLINGS\0no'))
  const resp = (buf: Buffer): IncomingMessage => ({ bytes: buf, offset: 0, length: buf.length }) as unknown as IncomingMessage
  b1!.cb(undefined, resp(w.encode()))
  b2!.cb(new KvError('KV_TIMEOUT', 'late'), undefined)
  tt.same(answers, [
    { node: 1, a: 'x', err: undefined, resp: [1, 5] },
    { node: 1, a: 'z', err: 'KV_TOO_MANY_SIBLINGS', resp: undefined },
    { node: 2, a: 'y', err: 'KV_TIMEOUT', resp: undefined },
  ])

  answers.length = 0
  tr.requests = []
  ob.addKeyed(1, 'p', 0, 100, VnodeType.READ, 0, 0, key, undefined)
  ob.addKeyed(1, 'q', 0, 100, VnodeType.READ, 0, 0, key, undefined)
  await Promise.resolve()
  tr.requests[0]!.cb(undefined, resp(new BatchReplyWriter(0).encode()))
  tt.same(answers.map((a) => [a.a, a.err]), [['p', 'KV_CORRUPTION'], ['q', 'KV_CORRUPTION']], 'an answer with the wrong item count fails every item')

  answers.length = 0
  tr.requests = []
  for (let i = 0; i < replicaBatchItemsMax + 1; i++) ob.addKeyed(3, `i${i}`, 0, 100, VnodeType.READ, 0, 0, key, undefined)
  tt.equal(tr.requests.length, 1, 'a full batch leaves at once')
  ob.addKeyed(3, 'big', 0, 100, VnodeType.REPLICATE, 0, 0, key, Buffer.alloc(100 * 1024))
  tt.equal(tr.requests.length, 2, 'an item past the byte cap closes the open batch')
  await Promise.resolve()
  tt.same(tr.requests.map((r) => readAll(r.payload, true).length), [replicaBatchItemsMax, 1, 1], 'and travels alone')

  answers.length = 0
  tr.requests = []
  tr.throwOnRequest = new KvError('KV_UNAVAILABLE', 'down')
  ob.addKeyed(4, 'd', 0, 100, VnodeType.READ, 0, 0, key, undefined)
  await Promise.resolve()
  tt.same(answers, [], 'a send that throws is answered later, not inside the flush')
  await new Promise((r) => setImmediate(r))
  tt.same(answers.map((a) => [a.a, a.err]), [['d', 'KV_UNAVAILABLE']])
})

t.test('an answer past the batch reply cap is RETRY_ALONE; a batch of one is never refused', async (tt) => {
  const w = new BatchReplyWriter(3, 100)
  w.setObject(0, Buffer.alloc(60))
  w.setObject(1, Buffer.alloc(60)) // past 100 bytes
  w.set(2, ItemStatus.OK, Buffer.from([1]))
  tt.same(readAll(w.encode(), false).map((i) => i.kind), [ItemStatus.OK, ItemStatus.RETRY_ALONE, ItemStatus.OK])
  const one = new BatchReplyWriter(1, 10)
  one.setObject(0, Buffer.alloc(60))
  tt.same(readAll(one.encode(), false).map((i) => i.kind), [ItemStatus.OK])

  // The outbox sends such an item again by itself, with what is left of the batch's budget,
  // and answers it from that batch.
  const tr = new DirectTransport()
  const answers: string[] = []
  const clock = new ManualClock()
  const ob = new ReplicaOutbox<string, number>(tr, clock, (_node, a, _b, err, resp, first) => answers.push(`${a}:${err?.code ?? resp?.length}${first ? ':first' : ''}`))
  ob.addKeyed(1, 'small', 0, 100, VnodeType.READ, 0, 0, Buffer.from('s'), undefined)
  ob.addKeyed(1, 'large', 0, 100, VnodeType.READ, 0, 0, Buffer.from('l'), undefined)
  await Promise.resolve()
  const first = new BatchReplyWriter(2, 100)
  first.setObject(0, Buffer.alloc(10))
  first.setObject(1, Buffer.alloc(200))
  const resp = (buf: Buffer): IncomingMessage => ({ bytes: buf, offset: 0, length: buf.length }) as unknown as IncomingMessage
  clock.advance(30)
  tr.requests[0]!.cb(undefined, resp(first.encode()))
  tt.same(answers, ['small:11'], 'the small answer is given; the large request went out again')
  tt.equal(tr.requests.length, 2)
  tt.same(readAll(tr.requests[1]!.payload, true).map((i) => i.payload), [encodeKeyed(0, Buffer.from('l'), undefined)], 'alone')
  tt.equal(tr.requests[1]!.timeoutMs, 70, 'with the 70 ms left of the batch budget of 100')
  const second = new BatchReplyWriter(1, 100)
  second.setObject(0, Buffer.alloc(200))
  tr.requests[1]!.cb(undefined, resp(second.encode()))
  tt.same(answers, ['small:11', 'large:201'])

  answers.length = 0
  ob.addKeyed(1, 'small', 0, 100, VnodeType.READ, 0, 0, Buffer.from('s'), undefined)
  ob.addKeyed(1, 'large', 0, 100, VnodeType.READ, 0, 0, Buffer.from('l'), undefined)
  await Promise.resolve()
  clock.advance(100)
  tr.requests[2]!.cb(undefined, resp(first.encode()))
  tt.same(answers, ['small:11', 'large:KV_TIMEOUT'], 'an answer that came with no budget left fails the item rather than resend it, not counted against the node')
  tt.equal(tr.requests.length, 3, 'nothing was sent again')
})

t.test('a WRITE answer is never refused by the reply cap (sending it again would apply it twice)', async (tt) => {
  const w = new BatchReplyWriter(3, 100)
  w.set(0, ItemStatus.OK, Buffer.alloc(90), false) // a WRITE's answer
  w.set(1, ItemStatus.OK, Buffer.alloc(90), false) // another, past the cap: still answered
  w.setObject(2, Buffer.alloc(10)) // a READ past the cap: sent again alone
  tt.same(readAll(w.encode(), false).map((i) => [i.kind, i.payload.length]), [[ItemStatus.OK, 90], [ItemStatus.OK, 90], [ItemStatus.RETRY_ALONE, 0]])
})

t.test('a batch that times out counts once against its node', async (tt) => {
  const tr = new DirectTransport()
  const firsts: boolean[] = []
  const ob = new ReplicaOutbox<string, number>(tr, systemClock, (_node, _a, _b, err, _resp, first) => {
    if (err?.code === 'KV_TIMEOUT') firsts.push(first)
  })
  for (let i = 0; i < 3; i++) ob.addKeyed(5, `r${i}`, 0, 100, VnodeType.READ, 0, 0, Buffer.from(`k${i}`), undefined)
  await Promise.resolve()
  tr.requests[0]!.cb(new KvError('KV_TIMEOUT', 'late'), undefined)
  tt.same(firsts, [true, false, false], 'every item fails; only the first is marked to count against the node')
})

t.test('the driver reads the answers that have arrived before it fails a request past its deadline', async (tt) => {
  // Answers that arrived while the caller's thread was busy elsewhere sit unread until
  // readInbound (the runtime's rings); the deadline sweep must read them first.
  class LateReader extends DirectTransport {
    arrived = false
    override readInbound(): void {
      if (!this.arrived) return
      for (const r of this.requests.splice(0)) {
        const n = readAll(r.payload, true).length
        const w = new BatchReplyWriter(n)
        for (let i = 0; i < n; i++) w.setObject(i, undefined) // not found
        const buf = w.encode()
        r.cb(undefined, { bytes: buf, offset: 0, length: buf.length } as unknown as IncomingMessage)
      }
    }
  }
  const nodes = [{ id: 1 }, { id: 2 }, { id: 3 }]
  const table = new PreferenceTable(claim(nodes, 16), nodes, 3)
  const outcome = async (arrived: boolean): Promise<string> => {
    const tr = new LateReader()
    const clock = new ManualClock()
    const driver = new RequestDriver({ transport: tr, clock, detector: new SuspicionTable(), policy: keepSiblings, replicaTimeoutMs: 1000 }, table)
    let result = 'pending'
    driver.get(Buffer.from('k'), 2, 100, (err) => (result = err === undefined ? 'ok' : err.code))
    await new Promise((r) => setImmediate(r)) // the round starts; the outbox sends its batches
    tt.equal(tr.requests.length, 3, 'a read to each replica')
    tr.arrived = arrived
    clock.advance(150)
    return result
  }
  tt.equal(await outcome(true), 'ok', 'answered: the answers had arrived, unread, when the deadline passed')
  tt.equal(await outcome(false), 'KV_TIMEOUT', 'nothing arrived: the deadline fails the get')
})

t.test('a replica request that timed out before its node saw it (published: false) does not count against the node', async (tt) => {
  const nodes = [{ id: 1 }, { id: 2 }, { id: 3 }]
  const table = new PreferenceTable(claim(nodes, 16), nodes, 3)
  const run = async (details: Record<string, unknown>): Promise<number[]> => {
    const tr = new DirectTransport()
    const clock = new ManualClock()
    const detector = new SuspicionTable()
    const driver = new RequestDriver({ transport: tr, clock, detector, policy: keepSiblings, replicaTimeoutMs: 1000 }, table)
    // Two rounds of reads, each batch to each node timing out: two in a row suspect a node.
    for (let round = 0; round < 2; round++) {
      driver.get(Buffer.from(`k${round}`), 2, 5000, () => undefined)
      await new Promise((r) => setImmediate(r))
      for (const r of tr.requests.splice(0)) r.cb(new KvError('KV_TIMEOUT', 'request deadline passed', details), undefined)
    }
    return [1, 2, 3].filter((n) => !detector.isHealthy(n, clock.monotonicMs()))
  }
  tt.same(await run({}), [1, 2, 3], 'timeouts of published requests: every node suspected')
  tt.same(await run({ published: false }), [], 'never seen by the node: none suspected')
})
