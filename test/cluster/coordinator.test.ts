// Coordinator state machines (PROTOCOL.md §5): levels, quorum decisions against a naive
// replay (as etcd-io/raft quorum/quick_test.go), put with sloppy quorum and hints, get with
// read repair, and get coalescing. Dynamo §4.5 (put and get) and §4.6 (hinted handoff).

import t from 'tap'
import { makePrng, seedFromEnv } from '../../lib/util/prng'
import { KvError } from '../../lib/errors'
import { resolveLevel, majority } from '../../lib/cluster/coordinator/levels'
import { quorumOutcome } from '../../lib/cluster/coordinator/quorum_tally'
import { PutMachine, type PutEffect } from '../../lib/cluster/coordinator/put_machine'
import { GetMachine, type GetEffect } from '../../lib/cluster/coordinator/get_machine'
import { GetCoalescer, getGroupKey } from '../../lib/cluster/coordinator/get_coalescer'
import { applyClientWrite, keepSiblings } from '../../lib/cluster/versioning/conflict_policy'
import { sync, emptyContext, type DvvObject } from '../../lib/cluster/versioning/dvv_object'
import type { CoordinatorInput } from '../../lib/cluster/coordinator/messages'
import { Checks } from './support'

const seed = seedFromEnv()
t.comment(`RINGWOOD_SEED=${seed}`)
const key = Buffer.from('k')
const T0 = 1_700_000_000_000
const writeOf = (v: string) => ({ value: Buffer.from(v), context: undefined, timestampMs: T0 })
const objectOf = (v: string, replica = 1): DvvObject => applyClientWrite(undefined, writeOf(v), replica, keepSiblings).object

function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof KvError ? err.code : 'not a KvError'
  }
  return undefined
}

t.test('levels: ONE, QUORUM, ALL and numbers; bad values are KV_INVALID_ARGUMENT', async (t) => {
  t.same([1, 2, 3, 4, 5].map((n) => resolveLevel('QUORUM', n)), [1, 2, 2, 3, 3])
  t.equal(resolveLevel('ONE', 3), 1)
  t.equal(resolveLevel('ALL', 3), 3)
  t.equal(resolveLevel(2, 3), 2)
  t.equal(thrownCode(() => resolveLevel(4, 3)), 'KV_INVALID_ARGUMENT')
  t.equal(thrownCode(() => resolveLevel(0, 3)), 'KV_INVALID_ARGUMENT')
  t.equal(thrownCode(() => resolveLevel(1.5, 3)), 'KV_INVALID_ARGUMENT')
  t.equal(thrownCode(() => resolveLevel('LOCAL_QUORUM', 3)), 'KV_INVALID_ARGUMENT')
  t.equal(thrownCode(() => resolveLevel('TWO' as 'ONE', 3)), 'KV_INVALID_ARGUMENT')
  for (let n = 1; n < 10; n++) t.ok(majority(n) * 2 > n && (majority(n) - 1) * 2 <= n, `majority of ${n}`)
})

t.test('quorum outcome equals the naive enumeration', async (t) => {
  const c = new Checks(t)
  for (let needed = 1; needed <= 8; needed++) {
    for (let acks = 0; acks <= 8; acks++) {
      for (let pending = 0; pending <= 8; pending++) {
        // Naive: try every way the pending ones could answer.
        let canMeet = false
        let mustMeet = acks >= needed
        for (let more = 0; more <= pending; more++) if (acks + more >= needed) canMeet = true
        const naive = mustMeet ? 'met' : canMeet ? 'waiting' : 'impossible'
        c.same(quorumOutcome(acks, pending, needed), naive, `acks=${acks} pending=${pending} needed=${needed}`)
        mustMeet = false
      }
    }
  }
  c.done()
})

type Outcome = 'ok' | 'error' | 'timeout'

/** Naive put: replay outcomes in order; the first decisive point decides. */
function naivePut(outcomes: readonly Outcome[], w: number): { ok: boolean; code?: string; acks: number } {
  if (outcomes[0] !== 'ok') return { ok: false, code: outcomes[0] === 'timeout' ? 'KV_TIMEOUT' : 'KV_REPLICA', acks: 0 }
  let acks = 0
  let timeouts = 0
  for (let i = 0; i < outcomes.length; i++) {
    if (outcomes[i] === 'ok') acks++
    if (outcomes[i] === 'timeout') timeouts++
    if (acks >= w) return { ok: true, acks }
    if (acks + (outcomes.length - 1 - i) < w) return { ok: false, code: timeouts > 0 ? 'KV_TIMEOUT' : 'KV_UNAVAILABLE', acks }
  }
  throw new Error('unreachable')
}

function input(node: number, o: Outcome, obj?: DvvObject): CoordinatorInput {
  if (o === 'timeout') return { type: 'replicaTimeout', node }
  if (o === 'error') return { type: 'reply', node, ok: false, error: new KvError('KV_IO_ERROR', 'disk') }
  return { type: 'reply', node, ok: true, object: obj, context: obj ? emptyContext : undefined }
}

function replies<R>(effects: readonly object[]): R[] {
  return effects.flatMap((e) => ('result' in e ? [e.result as R] : []))
}

t.test('put machine: the reply equals the naive replay for every order of outcomes', async (t) => {
  const prng = makePrng(seed)
  const c = new Checks(t)
  for (let trial = 0; trial < 3000; trial++) {
    const n = prng.range(1, 6)
    const w = prng.range(1, n)
    const outcomes: Outcome[] = Array.from({ length: n }, () => prng.pick(['ok', 'ok', 'error', 'timeout'] as const))
    const m = new PutMachine({ key, write: writeOf('v'), targets: Array.from({ length: n }, (_, i) => ({ node: i })), spares: [], w })
    const effects: PutEffect[] = [...m.start()]
    c.same(effects.map((e) => e.type), ['send'], 'start sends to the coordinator only')
    effects.push(...m.step(input(0, outcomes[0]!, objectOf('v'))))
    // Replicas answer in a random order.
    const order = Array.from({ length: n - 1 }, (_, i) => i + 1).sort(() => prng.next() - 0.5)
    const seq: Outcome[] = [outcomes[0]!]
    if (outcomes[0] === 'ok') for (const i of order) {
      seq.push(outcomes[i]!)
      effects.push(...m.step(input(i, outcomes[i]!)))
    }
    const naive = naivePut(seq, w)
    const got = replies<{ ok: boolean; error?: KvError }>(effects)
    c.ok(got.length === 1, 'exactly one reply')
    const r = got[0]!
    c.same(r.ok, naive.ok, `ok for ${seq.join(',')} W=${w}`)
    if (!r.ok) c.same(r.error!.code === 'KV_IO_ERROR' ? 'KV_REPLICA' : r.error!.code, naive.code, `code for ${seq.join(',')} W=${w}`)
    if (!r.ok && r.error!.code !== 'KV_IO_ERROR') c.same(r.error!.details['acks'], naive.acks, 'acks in the error')
    c.ok(m.isDone && effects.at(-1)!.type === 'done', 'done after every answer')
  }
  c.done()
})

t.test('put: too few live targets is KV_UNAVAILABLE before anything is sent', async (t) => {
  const m = new PutMachine({ key, write: writeOf('v'), targets: [{ node: 1 }], spares: [], w: 2 })
  const eff = m.start()
  t.same(eff.map((e) => e.type), ['reply', 'done'])
  t.equal((eff[0] as { result: { error: KvError } }).result.error.code, 'KV_UNAVAILABLE')
})

t.test('put: deadline gives KV_TIMEOUT with the acks; a reply comes once', async (t) => {
  const m = new PutMachine({ key, write: writeOf('v'), targets: [{ node: 1 }, { node: 2 }, { node: 3 }], spares: [], w: 3 })
  m.start()
  const sends = m.step(input(1, 'ok', objectOf('v')))
  t.same(sends.map((e) => (e.type === 'send' ? [e.node, e.message.kind] : e.type)), [[2, 'replicate'], [3, 'replicate']])
  t.same(m.step(input(2, 'ok')), [])
  const eff = m.step({ type: 'deadline' })
  const r = replies<{ ok: false; error: KvError }>(eff)[0]!
  t.equal(r.error.code, 'KV_TIMEOUT')
  t.equal(r.error.details['acks'], 2)
  t.same(m.step(input(3, 'ok')), [], 'late replies are ignored')
})

t.test('Dynamo 4.6: a replica that does not answer is replaced by a spare with a hint', async (t) => {
  const m = new PutMachine({ key, write: writeOf('v'), targets: [{ node: 1 }, { node: 2 }, { node: 5, hintFor: 3 }], spares: [6, 7], w: 3 })
  m.start()
  m.step(input(1, 'ok', objectOf('v')))
  const e1 = m.step(input(2, 'timeout'))
  t.same(e1, [{ type: 'send', node: 6, message: { kind: 'replicate', key, object: objectOf('v'), hintFor: 2 } }])
  const e2 = m.step(input(5, 'error'))
  t.same(e2.map((e) => e.type === 'send' && [e.node, e.message.kind === 'replicate' && e.message.hintFor]), [[7, 3]], 'a failed fallback passes its hint on')
  m.step(input(6, 'ok'))
  const e3 = m.step(input(7, 'ok'))
  t.same(e3.map((e) => e.type), ['reply', 'done'])
  t.equal(m.acks, 3)
})

t.test('put: the write, object and context are carried as given (the driver passes bytes, §9.5)', async (t) => {
  const write = Buffer.from('encoded write')
  const object = Buffer.from('object bytes')
  const context = Buffer.from('context bytes')
  const m = new PutMachine<Buffer, Buffer, Buffer>({ key, write, targets: [{ node: 1 }, { node: 2 }, { node: 4, hintFor: 3 }], spares: [1, 5], w: 2 })
  const [start] = m.start()
  t.ok(start!.type === 'send' && start!.message.kind === 'coordinateWrite' && start!.message.write === write, 'the write as given')
  const sends = m.step({ type: 'reply', node: 1, ok: true, object, context })
  t.same(sends.map((e) => e.type === 'send' && e.message.kind === 'replicate' && e.message.object === object && [e.node, e.message.hintFor]), [[2, undefined], [4, 3]])
  const spare = m.step({ type: 'replicaTimeout', node: 4 })
  t.same(spare.map((e) => e.type === 'send' && e.message.kind === 'replicate' && [e.node, e.message.hintFor]), [[5, 3]], 'a spare that is already a target is skipped; the hint passes on')
  const reply = m.step({ type: 'reply', node: 2, ok: true })
  t.ok(reply[0]!.type === 'reply' && reply[0]!.result.ok && reply[0]!.result.context === context, 'the context as given')
})

t.test('put: the coordinator\'s refusal (KV_TOO_MANY_SIBLINGS) is the reply and nothing is replicated', async (t) => {
  const m = new PutMachine({ key, write: writeOf('v'), targets: [{ node: 1 }, { node: 2 }], spares: [], w: 1 })
  m.start()
  const eff = m.step({ type: 'reply', node: 1, ok: false, error: new KvError('KV_TOO_MANY_SIBLINGS', 'x') })
  t.same(eff.map((e) => e.type), ['reply', 'done'])
  t.equal(replies<{ error: KvError }>(eff)[0]!.error.code, 'KV_TOO_MANY_SIBLINGS')
})

t.test('Dynamo 4.5: get answers at R with the merge, then repairs stale primaries', async (t) => {
  const a = objectOf('a', 1)
  const b = objectOf('b', 2)
  const m = new GetMachine({ key, targets: [{ node: 1 }, { node: 2 }, { node: 3 }, { node: 9, hintFor: 4 }], r: 2 })
  t.same(m.start().map((e) => e.type === 'send' && e.message.kind), ['read', 'read', 'read', 'read'])
  t.same(m.step({ type: 'reply', node: 1, ok: true, object: a }), [])
  const eff = m.step({ type: 'reply', node: 2, ok: true, object: b })
  const r = replies<{ ok: true; object: DvvObject }>(eff)[0]!
  t.same(r.object, sync(a, b))
  t.same(m.step({ type: 'reply', node: 9, ok: true, object: undefined }), [], 'a fallback answer')
  const fin: GetEffect[] = m.step({ type: 'reply', node: 3, ok: true, object: undefined })
  const repaired = fin.flatMap((e) => (e.type === 'send' && e.message.kind === 'repair' ? [e.node] : []))
  t.same(repaired, [1, 2, 3], 'every primary that differs; never the fallback')
  t.equal(fin.at(-1)!.type, 'done')
})

t.test('get: every answer not found means absent and no repair; failures time out with acks', async (t) => {
  const m = new GetMachine({ key, targets: [{ node: 1 }, { node: 2 }], r: 2 })
  m.start()
  m.step({ type: 'reply', node: 1, ok: true, object: undefined })
  const eff = m.step({ type: 'reply', node: 2, ok: true, object: undefined })
  t.same(eff, [{ type: 'reply', result: { ok: true, object: undefined } }, { type: 'done' }])
  const m2 = new GetMachine({ key, targets: [{ node: 1 }, { node: 2 }, { node: 3 }], r: 2 })
  m2.start()
  m2.step({ type: 'reply', node: 1, ok: true, object: objectOf('x') })
  m2.step({ type: 'replicaTimeout', node: 2 })
  const e2 = m2.step({ type: 'reply', node: 3, ok: false, error: new KvError('KV_CLOSED', 'closed') })
  const r = replies<{ ok: false; error: KvError }>(e2)[0]!
  t.equal(r.error.code, 'KV_TIMEOUT')
  t.equal(r.error.details['acks'], 1)
  t.same(e2.at(-1), { type: 'done' })
  const m3 = new GetMachine({ key, targets: [{ node: 1 }], r: 2 })
  t.equal(replies<{ error: KvError }>(m3.start())[0]!.error.code, 'KV_UNAVAILABLE')
})

t.test('get coalescing: one round per key and R per drain; a started round takes no waiters', async (t) => {
  const co = new GetCoalescer<string>(2)
  const k1 = getGroupKey(Buffer.from('a'), 2)
  t.equal(co.add(k1, 'x'), true)
  t.equal(co.add(k1, 'y'), false)
  t.equal(co.add(k1, 'z'), true, 'over the cap opens a second round')
  t.equal(co.add(getGroupKey(Buffer.from('a'), 3), 'r3'), true, 'another R is another round')
  t.equal(co.pendingRounds, 3)
  const rounds = co.takeRounds()
  t.same(rounds.map((r) => r.waiters), [['x', 'y'], ['z'], ['r3']])
  t.equal(co.add(k1, 'late'), true, 'after the drain a new round opens')
})
