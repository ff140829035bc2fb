// Admission control (lib/db/admission.ts, README "Overload"): at most maxInFlight gets and sets
// are coordinated at once, up to maxQueued wait in order, each within its own deadline, and
// the rest fail at once with KV_OVERLOADED; a burst far larger than the nodes can take leaves
// no replica suspected.

import t from 'tap'
import { AdmissionGate, type AdmissionLimits } from '../../lib/db/admission'
import type { Router } from '../../lib/db/router'
import type { GetCallback, PutCallback, WireWrite } from '../../lib/cluster'
import { KvError, isKvError } from '../../lib/errors'
import { ManualClock } from '../../lib/util/clock'
import { testCluster } from './cluster_support'
import { open } from '../../lib'

/** A router that holds every request until the test answers it. */
class HeldRouter implements Router {
  readonly started: { what: string; timeoutMs: number; answer: (err?: KvError) => void }[] = []
  /** Set: every request fails at once, inside put or get. */
  failNow: KvError | undefined

  cached(): undefined {
    return undefined
  }

  put(write: WireWrite, _w: number, timeoutMs: number, cb: PutCallback): void {
    if (this.failNow !== undefined) return cb(this.failNow, undefined)
    this.started.push({ what: `put ${write.key.toString()}`, timeoutMs, answer: (err) => cb(err, err === undefined ? Buffer.alloc(0) : undefined) })
  }

  get(key: Buffer, _r: number, timeoutMs: number, cb: GetCallback): void {
    if (this.failNow !== undefined) return cb(this.failNow, undefined)
    this.started.push({ what: `get ${key.toString()}`, timeoutMs, answer: (err) => cb(err, undefined) })
  }
}

const write = (key: string): WireWrite => ({ key: Buffer.from(key), value: Buffer.from('v'), ttlMs: 0, context: undefined })

/** What each request's callback got, by name: 'ok' or the error code. */
interface Outcomes {
  got: Map<string, string>
  errors: Map<string, KvError>
  /** Callbacks called more than once. */
  again: string[]
  put: (name: string) => PutCallback
  get: (name: string) => GetCallback
}

function outcomes(): Outcomes {
  const got = new Map<string, string>()
  const errors = new Map<string, KvError>()
  const again: string[] = []
  const cb = (name: string) => (err: KvError | undefined): void => {
    if (got.has(name)) again.push(name)
    got.set(name, err === undefined ? 'ok' : err.code)
    if (err !== undefined) errors.set(name, err)
  }
  return { got, errors, again, put: cb, get: cb }
}

/** A gate with `limits` in front of a HeldRouter, on a manual clock, and a record of the answers. */
function held(limits: AdmissionLimits): { clock: ManualClock; inner: HeldRouter; gate: AdmissionGate; o: ReturnType<typeof outcomes> } {
  const clock = new ManualClock()
  const inner = new HeldRouter()
  return { clock, inner, gate: new AdmissionGate(inner, limits, clock), o: outcomes() }
}

t.test('up to maxInFlight start; the rest wait in order and start with what is left of their budget', async (tt) => {
  const { clock, inner, gate, o } = held({ maxInFlight: 2, maxQueued: 3 })
  gate.put(write('a'), 2, 1000, o.put('a'))
  gate.get(Buffer.from('b'), 2, 1000, o.get('b'))
  gate.put(write('c'), 2, 1000, o.put('c'))
  gate.get(Buffer.from('d'), 2, 500, o.get('d'))
  tt.same(inner.started.map((s) => s.what), ['put a', 'get b'], 'two started')
  tt.same(gate.stats(), { inFlight: 2, queued: 2, maxInFlight: 2, maxQueued: 3, overloaded: 0, expiredInQueue: 0 })
  tt.equal(gate.room, 1, 'one more may wait')
  clock.advance(200)
  inner.started[1]!.answer()
  tt.same(inner.started.map((s) => s.what), ['put a', 'get b', 'put c'], 'the first waiting request took the freed slot')
  tt.equal(inner.started[2]!.timeoutMs, 800, 'with its remaining budget')
  tt.equal(o.got.get('b'), 'ok')
  inner.started[0]!.answer()
  tt.same(inner.started.map((s) => s.what), ['put a', 'get b', 'put c', 'get d'])
  tt.equal(inner.started[3]!.timeoutMs, 300)
  gate.put(write('e'), 2, 1000, o.put('e'))
  tt.equal(inner.started.length, 4, 'no slot free: e waits')
  inner.started[2]!.answer(new KvError('KV_TIMEOUT', 'x'))
  tt.equal(o.got.get('c'), 'KV_TIMEOUT', 'a failure is passed on')
  tt.same(inner.started.map((s) => s.what).slice(4), ['put e'], 'and frees its slot')
  tt.same(o.again, [], 'each answered once')
})

t.test('a waiting request already past its deadline when a slot frees fails instead of starting', async (tt) => {
  const { clock, inner, gate, o } = held({ maxInFlight: 1, maxQueued: 10 })
  gate.put(write('a'), 2, 1000, o.put('a'))
  gate.put(write('b'), 2, 10, o.put('b'))
  gate.put(write('c'), 2, 1000, o.put('c'))
  clock.advance(20) // past b's deadline, before the queue's sweep (every 25 ms) runs
  inner.started[0]!.answer()
  tt.equal(o.got.get('b'), 'KV_TIMEOUT', 'b failed when its turn came')
  tt.same(o.errors.get('b')!.details, { sent: false, waitedMs: 20, maxInFlight: 1 })
  tt.same(inner.started.map((s) => s.what), ['put a', 'put c'], 'and c took the slot')
})

t.test('a full queue refuses at once with KV_OVERLOADED; maxQueued 0 fails fast', async (tt) => {
  const { clock, gate, o } = held({ maxInFlight: 1, maxQueued: 1 })
  gate.put(write('a'), 2, 1000, o.put('a'))
  gate.put(write('b'), 2, 1000, o.put('b'))
  gate.get(Buffer.from('c'), 2, 1000, o.get('c'))
  tt.equal(o.got.get('c'), 'KV_OVERLOADED', 'refused in the call')
  tt.same(o.errors.get('c')!.details, { inFlight: 1, queued: 1, maxInFlight: 1, maxQueued: 1 })
  tt.match(o.errors.get('c')!.message, /nothing was sent/)
  tt.equal(gate.room, 0)
  tt.equal(gate.stats().overloaded, 1)

  const fast = new AdmissionGate(new HeldRouter(), { maxInFlight: 1, maxQueued: 0 }, clock)
  fast.put(write('x'), 2, 1000, o.put('x'))
  fast.put(write('y'), 2, 1000, o.put('y'))
  tt.equal(o.got.has('x'), false, 'x runs')
  tt.equal(o.got.get('y'), 'KV_OVERLOADED', 'y is refused: none may wait')
})

t.test('a request that waits past its deadline fails with KV_TIMEOUT, not sent, even while no slot frees', async (tt) => {
  const { clock, inner, gate, o } = held({ maxInFlight: 1, maxQueued: 10 })
  gate.put(write('a'), 2, 10_000, o.put('a'))
  gate.put(write('short'), 2, 100, o.put('short'))
  gate.put(write('long'), 2, 1000, o.put('long'))
  clock.advance(99)
  tt.equal(o.got.size, 0, 'nothing failed before its deadline')
  clock.advance(30) // the queue's sweep runs every 25 ms
  tt.equal(o.got.get('short'), 'KV_TIMEOUT', 'the short one failed from the sweep')
  tt.same(o.errors.get('short')!.details, { sent: false, waitedMs: 100, maxInFlight: 1 })
  tt.match(o.errors.get('short')!.message, /waited 100 ms .* nothing was sent/)
  tt.equal(o.got.has('long'), false, 'the long one still waits')
  clock.advance(1000)
  tt.equal(o.got.get('long'), 'KV_TIMEOUT')
  tt.same(inner.started.map((s) => s.what), ['put a'], 'neither was started')
  tt.equal(gate.stats().expiredInQueue, 2)
  tt.equal(gate.stats().queued, 0)
  tt.same(o.again, [], 'each answered once')
})

t.test('requests that fail inside the call start the next ones without recursing; close fails what waits', async (tt) => {
  const { inner, gate, o } = held({ maxInFlight: 1, maxQueued: 100_000 })
  gate.put(write('first'), 2, 1000, o.put('first'))
  for (let i = 0; i < 50_000; i++) gate.get(Buffer.from(`k${i}`), 2, 1000, o.get(`k${i}`))
  inner.failNow = new KvError('KV_UNAVAILABLE', 'no replica')
  inner.started[0]!.answer() // frees the slot: every waiting get starts and fails at once
  tt.equal(o.got.size, 50_001, 'all answered, no stack overflow')
  tt.equal([...o.got.values()].filter((c) => c === 'KV_UNAVAILABLE').length, 50_000)
  tt.same(gate.stats(), { inFlight: 0, queued: 0, maxInFlight: 1, maxQueued: 100_000, overloaded: 0, expiredInQueue: 0 })

  inner.failNow = undefined
  gate.put(write('running'), 2, 1000, o.put('running'))
  gate.put(write('waiting'), 2, 1000, o.put('waiting'))
  gate.close(new KvError('KV_CLOSED', 'closed'))
  tt.equal(o.got.get('waiting'), 'KV_CLOSED', 'a waiting request fails at close')
  tt.equal(o.got.has('running'), false, 'a started one ends through its router')
  gate.put(write('late'), 2, 1000, o.put('late'))
  tt.equal(o.got.get('late'), 'KV_CLOSED', 'so does one that would wait after close')
  inner.started.at(-1)!.answer()
  gate.get(Buffer.from('later'), 2, 1000, o.get('later'))
  tt.equal(o.got.get('later'), 'KV_CLOSED', 'and one that would find a slot free')
  tt.same(o.again, [], 'each answered once')
})

t.test('embedded: small limits admit maxInFlight + maxQueued of a burst, all of which land; setMany is taken whole or refused', async (tt) => {
  const db = await testCluster(tt, { nodes: 3, replicas: 3, maxInFlight: 8, maxQueued: 100 })
  const codes = await Promise.all(Array.from({ length: 300 }, (_, i) => db.set(`b${i}`, `v${i}`).then(() => 'ok', (e: KvError) => e.code)))
  tt.equal(codes.filter((c) => c === 'ok').length, 108, 'the first 8 + 100 were taken')
  tt.equal(codes.filter((c) => c === 'KV_OVERLOADED').length, 192, 'the rest refused')
  tt.same(codes.slice(0, 108), Array(108).fill('ok'), 'in order')
  for (let i = 0; i < 108; i += 7) tt.equal((await db.get(`b${i}`, { r: 'ALL' }))?.value.toString(), `v${i}`)
  const s = (await db.admin.stats()).client.admission
  tt.same(s, { inFlight: 0, queued: 0, maxInFlight: 8, maxQueued: 100, overloaded: 192, expiredInQueue: 0 })

  const err = await db.setMany(Array.from({ length: 109 }, (_, i) => [`m${i}`, 'v'] as [string, string])).catch((e: unknown) => e)
  tt.ok(isKvError(err, 'KV_OVERLOADED'), 'a setMany larger than what may run and wait is refused')
  tt.match((err as KvError).message, /setMany of 109 keys does not fit: 108 more requests may run or wait now/)
  tt.equal(await db.get('m0'), undefined, 'and nothing of it was written')
  tt.equal((await db.setMany(Array.from({ length: 108 }, (_, i) => [`m${i}`, 'v'] as [string, string]))).length, 108, 'one that fits is taken')
  tt.equal((await db.getMany(['m0', 'm107'])).map((r) => r?.value.toString()).join(), 'v,v')
})

t.test('embedded: a burst of 60,000 sets with the default limits: each is acknowledged or refused, no replica is suspected', async (tt) => {
  // A long request deadline: the test is about the nodes' queues, not this host's throughput.
  const db = await testCluster(tt, { nodes: 3, replicas: 3, replicaTimeoutMs: 2000 })
  const n = 60_000
  const codes = await Promise.all(Array.from({ length: n }, (_, i) => db.set(`burst${i}`, 'v', { timeoutMs: 120_000 }).then(() => 'ok', (e: KvError) => e.code)))
  const ok = codes.filter((c) => c === 'ok').length
  tt.equal(ok, n, `all ${n} acknowledged (the queue holds 100,000)`)
  const s = (await db.admin.stats()).client
  tt.equal(s.timeouts, 0, 'no request timed out')
  tt.equal(s.unavailable, 0, 'no request found its replicas unavailable')
  tt.equal(s.endpoint.timeouts, 0, 'no replica request timed out: none was suspected')
  tt.equal(s.admission.inFlight + s.admission.queued, 0)
  for (let i = 0; i < n; i += 4999) tt.equal((await db.get(`burst${i}`, { r: 'ALL' }))?.value.toString(), 'v', `burst${i} on every replica`)
})

t.test('open() checks the limits', async (tt) => {
  for (const bad of [{ maxInFlight: 0 }, { maxInFlight: 1.5 }, { maxInFlight: 70_000 }, { maxQueued: -1 }, { maxQueued: '10' }]) {
    const err = await open({ dir: '/nonexistent-ringwood', ...(bad as object) }).catch((e: unknown) => e)
    tt.ok(isKvError(err, 'KV_INVALID_ARGUMENT'), `${JSON.stringify(bad)} refused`)
  }
})
