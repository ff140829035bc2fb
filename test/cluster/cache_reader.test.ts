// The caller's side of the read caches (PROTOCOL.md §9.8), on a RequestDriver with real
// RowCaches and a transport that records what it is asked to send: identical objects answer
// as they are; objects that differ are merged and the primaries holding a stale one get a
// REPAIR (unless the driver's own put of the key is on its way to them); a primary without the
// key, or bytes that do not decode, leave the get to the round.

import t from 'tap'
import {
  PreferenceTable, RequestDriver, RowCache, SuspicionTable, claim, createReadCache, decodeKeyed, decodeObject, encodeObject, keepSiblings,
  ringHash, objectsEquivalent, type ConflictPolicy, type DvvObject, type MergedFromCaches,
} from '../../lib/cluster'
import { emptyObject, join, update } from '../../lib/cluster/versioning/dvv_object'
import type { Transport } from '../../lib/transport'
import { ManualClock } from '../../lib/util/clock'
import { KvError } from '../../lib/errors'
import { BatchReplyWriter, ItemStatus } from '../../lib/cluster/wire/batch_wire'
import { encodeWriteReply } from '../../lib/cluster/wire/replica_wire'
import { encodeContext } from '../../lib/cluster/versioning/causal_context'

const nodes = [{ id: 1 }, { id: 2 }, { id: 3 }]
const table = new PreferenceTable(claim(nodes, 16), nodes, 3)
const key = Buffer.from('k')
const hash = ringHash(key)
const [a, b, c] = table.forKey(key).primaries as [number, number, number]

type Answer = (err: KvError | undefined, resp: undefined) => void

function setup(policy: ConflictPolicy = keepSiblings) {
  const sent: { to: number; type: number; payload: Buffer }[] = []
  /** Requests (replica batches) not answered yet. */
  const requests: { to: number; answer: Answer }[] = []
  const transport = {
    self: 0,
    isUp: () => true,
    send: (to: number, _actor: number, type: number, payload: Uint8Array) => sent.push({ to, type, payload: Buffer.from(payload) }),
    request: (to: number, _actor: number, _type: number, _payload: Uint8Array, answer: Answer) => requests.push({ to, answer }),
    readInbound: () => undefined,
  } as unknown as Transport
  const caches: (RowCache | undefined)[] = []
  for (const n of nodes) {
    caches[n.id] = new RowCache(createReadCache(64 * 1024))
    caches[n.id]!.setEnabled(true)
  }
  const clock = new ManualClock()
  const driver = new RequestDriver({ transport, clock, detector: new SuspicionTable(), policy, replicaTimeoutMs: 1000, readCaches: caches }, table)
  const put = (node: number, obj: DvvObject): void => caches[node]!.put(hash, key, encodeObject(obj))
  return { sent, requests, caches, driver, put, clock }
}

const write = (obj: DvvObject, ctx: boolean, replica: number, value: string, ts: number): DvvObject =>
  update(obj, ctx ? join(obj) : { vv: [], dots: [] }, replica, { timestampMs: ts, expiresAtMs: 0, tombstone: false, value: Buffer.from(value) }).object

const v1 = write(emptyObject, false, 1000, 'v1', 1)
const v2 = write(v1, true, 2000, 'v2', 2) // supersedes v1
const other = write(v1, false, 3000, 'other', 3) // concurrent with v2

t.test('identical objects in the first R primaries: the bytes, nothing sent', async (tt) => {
  const { sent, driver, put } = setup()
  put(a, v2)
  put(b, v2)
  const got = driver.cached(key, 2)
  tt.ok(got instanceof Uint8Array && objectsEquivalent(decodeObject(got), v2))
  tt.same(sent, [])
  tt.equal(driver.stats().cacheMerges, 0)
})

t.test('a write on its way (one primary newer): the merge is the answer, the stale primary gets a REPAIR', async (tt) => {
  const { sent, driver, put } = setup()
  put(a, v1)
  put(b, v2)
  put(c, v1) // not among the first R = 2: not read
  const got = driver.cached(key, 2) as MergedFromCaches
  tt.ok(got !== undefined && !(got instanceof Uint8Array), 'merged')
  tt.ok(objectsEquivalent(got.merged, v2), 'the newer object wins')
  tt.equal(sent.length, 1, 'one repair')
  tt.equal(sent[0]!.to, a, 'to the primary that held v1')
  const repair = decodeKeyed(sent[0]!.payload)
  tt.ok(repair.key.equals(key) && objectsEquivalent(decodeObject(repair.object), v2), 'carrying the merge')
  const s = driver.stats()
  tt.equal(s.cacheHits, 1)
  tt.equal(s.cacheMerges, 1)
  tt.equal(s.repairsSent, 1)
})

t.test('concurrent objects: siblings merged (or the newest under LWW), each differing primary repaired', async (tt) => {
  const { sent, driver, put } = setup()
  put(a, v2)
  put(b, other)
  const got = driver.cached(key, 2) as MergedFromCaches
  tt.same(got.merged.siblings.map((s) => s.value.toString()).sort(), ['other', 'v2'])
  tt.same(sent.map((s) => s.to).sort(), [a, b].sort(), 'both differ from the merge')
  const lww = setup({ kind: 'lww' })
  lww.put(a, v2)
  lww.put(b, other)
  const newest = lww.driver.cached(key, 2) as MergedFromCaches
  tt.same(newest.merged.siblings.map((s) => s.value.toString()), ['other'], 'LWW keeps the newest')
})

t.test('a primary without the key, or bytes that do not decode: no answer, nothing sent (the quorum round reads)', async (tt) => {
  const { sent, caches, driver, put } = setup()
  put(a, v2)
  tt.equal(driver.cached(key, 2), undefined, 'the second primary lacks the key')
  caches[b]!.put(hash, key, Buffer.from([1, 2, 3]))
  tt.equal(driver.cached(key, 2), undefined, 'the second primary holds bytes that are not an object')
  caches[b]!.setEnabled(false)
  put(b, v1)
  tt.equal(driver.cached(key, 2), undefined, 'a disabled cache is not read')
  tt.same(sent, [])
  tt.equal(driver.stats().cacheMerges, 0)
})

/** A batch answer of one item: OK with `payload`. */
function okAnswer(payload: Uint8Array): { bytes: Buffer; offset: number; length: number } {
  const w = new BatchReplyWriter(1)
  w.set(0, ItemStatus.OK, payload)
  const bytes = w.encode()
  return { bytes, offset: 0, length: bytes.length }
}

const flushOutbox = (): Promise<void> => new Promise<void>((resolve) => queueMicrotask(resolve)) // the outbox sends in a microtask
const writeOf = (value: string) => ({ key: Buffer.from(key), value: Buffer.from(value), ttlMs: undefined, context: undefined })

t.test('while a put of the key by this driver is not done, a merge sends no repair (the replication is on its way); after it, it does', async (tt) => {
  tt.test('the put fails at the coordinator', async (tt) => {
    const { sent, requests, driver, put } = setup()
    let putError: KvError | undefined
    driver.put(writeOf('v2'), 2, 1000, (err) => (putError = err))
    await flushOutbox()
    tt.same(requests.map((r) => r.to), [a], 'the WRITE went to the coordinating replica')
    put(a, v2) // the coordinator stored the write; b has not received it yet
    put(b, v1)
    const during = driver.cached(key, 2) as MergedFromCaches
    tt.ok(objectsEquivalent(during.merged, v2), 'the merge answers')
    tt.same(sent, [], 'no repair while the put is not done')
    requests[0]!.answer(new KvError('KV_IO_ERROR', 'disk'), undefined) // the put ends (failed): no replication is coming
    tt.equal(putError?.code, 'KV_IO_ERROR')
    const after = driver.cached(key, 2) as MergedFromCaches
    tt.ok(objectsEquivalent(after.merged, v2))
    tt.same(sent.map((s) => s.to), [b], 'the stale primary is repaired once the put is done')
    tt.equal(driver.stats().cacheMerges, 2)
  })

  tt.test('the put succeeds: not done until every target answered', async (tt) => {
    const { sent, requests, driver, put } = setup()
    let acked = false
    driver.put(writeOf('v2'), 2, 1000, (err) => (acked = err === undefined))
    await flushOutbox()
    requests[0]!.answer(undefined, okAnswer(encodeWriteReply(encodeObject(v2), encodeContext(key, join(v2)))) as never)
    await flushOutbox()
    tt.same(requests.slice(1).map((r) => r.to).sort(), [b, c].sort(), 'REPLICATE to the others')
    put(a, v2)
    put(b, v1)
    requests.find((r) => r.to === c)!.answer(undefined, okAnswer(Buffer.alloc(0)) as never)
    tt.ok(acked, 'acknowledged at W = 2')
    driver.cached(key, 2)
    tt.same(sent, [], 'no repair: b has not answered yet')
    requests.find((r) => r.to === b)!.answer(undefined, okAnswer(Buffer.alloc(0)) as never)
    driver.cached(key, 2) // (the test's caches did not see b's store)
    tt.same(sent.map((s) => s.to), [b], 'done: a merge repairs again')
  })

  tt.test('the put cannot start (W above the live targets)', async (tt) => {
    const { sent, driver, put } = setup()
    let putError: KvError | undefined
    driver.put(writeOf('v2'), 4, 1000, (err) => (putError = err))
    tt.equal(putError?.code, 'KV_UNAVAILABLE')
    put(a, v2)
    put(b, v1)
    driver.cached(key, 2)
    tt.same(sent.map((s) => s.to), [b], 'nothing in flight: the merge repairs')
  })

  tt.test('a callback that throws at the deadline neither leaves the key counted nor stops the sweep', async (tt) => {
    const { sent, driver, put, clock } = setup()
    driver.put(writeOf('v2'), 2, 100, () => {
      throw new Error('a bug in the callback')
    })
    let other: KvError | undefined
    driver.put({ key: Buffer.from('another key'), value: Buffer.from('x'), ttlMs: undefined, context: undefined }, 2, 100, (err) => (other = err))
    await flushOutbox()
    tt.throws(() => clock.advance(200), /a bug in the callback/)
    tt.equal(other, undefined, 'the sweep stopped at the throw')
    put(a, v2)
    put(b, v1)
    driver.cached(key, 2)
    tt.same(sent.map((s) => s.to), [b], 'the key is not counted: the merge repairs')
    clock.advance(50)
    tt.equal(other?.code, 'KV_TIMEOUT', 'the next sweep fails the run the throw skipped')
  })

  tt.test('the put times out', async (tt) => {
    const { sent, driver, put, clock } = setup()
    let putError: KvError | undefined
    driver.put(writeOf('v2'), 2, 100, (err) => (putError = err))
    await flushOutbox()
    put(a, v2)
    put(b, v1)
    driver.cached(key, 2)
    tt.same(sent, [])
    clock.advance(200)
    tt.equal(putError?.code, 'KV_TIMEOUT')
    driver.cached(key, 2)
    tt.same(sent.map((s) => s.to), [b], 'past its deadline the put is done: the merge repairs')
  })
})
