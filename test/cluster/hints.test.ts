// Hints (PROTOCOL.md §6): the record format, caps in bytes and age, and throttled replay.
// Dynamo §4.6 (hinted handoff).

import t from 'tap'
import { KvError } from '../../lib/errors'
import { ManualClock } from '../../lib/util/clock'
import { applyClientWrite, keepSiblings } from '../../lib/cluster/versioning/conflict_policy'
import { decodeHint, encodeHint } from '../../lib/cluster/hints/hint_record'
import { HintLedger } from '../../lib/cluster/hints/hint_ledger'
import { HintReplayer, type ReplayEffect } from '../../lib/cluster/hints/hint_replayer'
import { TokenBucket } from '../../lib/cluster/hints/token_bucket'

const object = applyClientWrite(undefined, { value: Buffer.from('v'), context: undefined, timestampMs: 5 }, 1, keepSiblings).object

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof KvError ? err.code : 'not a KvError'
  }
  return undefined
}

t.test('hint record v1 round-trips and checks its checksum and version', async (t) => {
  const h = { intendedOwner: 3, partition: 17, createdAtMs: 1_700_000_000_000, key: Buffer.from('key'), object }
  const enc = encodeHint(h)
  t.same(decodeHint(enc), h)
  t.equal(enc[0], 1, 'version byte first')
  const flipped = Buffer.from(enc)
  flipped[5] = flipped[5]! ^ 1
  t.equal(code(() => decodeHint(flipped)), 'KV_CORRUPTION')
  t.equal(code(() => decodeHint(Buffer.concat([Buffer.from([2]), enc.subarray(1)]))), 'KV_UNSUPPORTED_VERSION')
  t.equal(code(() => decodeHint(enc.subarray(0, 3))), 'KV_CORRUPTION')
})

t.test('ledger: one hint per (owner, key), capped in bytes, expired by age', async (t) => {
  const l = new HintLedger(100, 1000)
  const a = l.admit({ owner: 1, key: Buffer.from('k'), partition: 0, createdAtMs: 10, bytes: 40 })
  const a2 = l.admit({ owner: 1, key: Buffer.from('k'), partition: 0, createdAtMs: 20, bytes: 50 })
  t.equal(a2.id, a.id, 'merged into the same hint')
  t.equal(a2.revision, 2)
  t.equal(a2.createdAtMs, 10, 'keeps the older age')
  t.equal(l.bytes, 50)
  l.admit({ owner: 2, key: Buffer.from('k'), partition: 0, createdAtMs: 500, bytes: 50 })
  t.equal(code(() => l.admit({ owner: 3, key: Buffer.from('k'), partition: 0, createdAtMs: 30, bytes: 1 })), 'KV_OVERLOADED')
  t.same(l.owners(), [1, 2])
  t.same(l.expire(1011).map((m) => m.owner), [1])
  t.equal(l.bytes, 50)
  t.notOk(l.isDrained(2))
  t.ok(l.isDrained(1))
})

t.test('token bucket: rate, burst, and an oversized item passes only when full', async (t) => {
  const b = new TokenBucket(1000, 100, 0)
  t.ok(b.tryTake(100, 0))
  t.notOk(b.tryTake(1, 0))
  t.equal(b.readyAtMs(50, 0), 50)
  t.ok(b.tryTake(50, 50))
  t.notOk(b.tryTake(500, 100), 'not full yet')
  t.equal(b.readyAtMs(500, 100), 150)
  t.ok(b.tryTake(500, 150), 'full: passes into debt')
  t.equal(b.available(150), -400)
})

function replayed(effects: readonly ReplayEffect[]): number[] {
  return effects.flatMap((e) => (e.type === 'replay' ? [e.hint.id] : []))
}

t.test('replay: healthy owners only, throttled, in-flight capped, acked hints dropped', async (t) => {
  const clock = new ManualClock(0)
  const l = new HintLedger()
  for (let i = 0; i < 6; i++) l.admit({ owner: i % 2, key: Buffer.from(`k${i}`), partition: 0, createdAtMs: i, bytes: 100 })
  const r = new HintReplayer(l, clock.nowMs(), { bytesPerSec: 1000, burstBytes: 200, inFlightMax: 3 })
  const down = new Set([1])
  const healthy = (n: number): boolean => !down.has(n)
  const e1 = r.step({ type: 'tick', nowMs: clock.nowMs(), isHealthy: healthy })
  t.same(replayed(e1).map((id) => l.get(id)!.owner), [0, 0], 'only the healthy owner, two fit the burst')
  t.same(e1.at(-1), { type: 'wakeAt', atMs: 100 })
  clock.advance(100)
  down.clear()
  const e2 = r.step({ type: 'tick', nowMs: clock.nowMs(), isHealthy: healthy })
  t.equal(replayed(e2).length, 1, 'in flight capped at 3')
  t.equal(r.inFlightCount, 3)
  const first = replayed(e1)[0]!
  const ack = r.step({ type: 'acked', id: first, revision: l.get(first)!.revision })
  t.same(ack, [{ type: 'drop', id: first, reason: 'replayed' }])
  t.equal(l.get(first), undefined)
  // A hint replaced while in flight is not dropped by the stale ack.
  const second = replayed(e1)[1]!
  const meta = l.get(second)!
  l.admit({ owner: meta.owner, key: meta.key, partition: 0, createdAtMs: 99, bytes: 100 })
  t.same(r.step({ type: 'acked', id: second, revision: meta.revision }), [])
  t.ok(l.get(second), 'kept for another replay')
})

t.test('replay: a failed owner backs off, doubling', async (t) => {
  const l = new HintLedger()
  const m = l.admit({ owner: 4, key: Buffer.from('k'), partition: 0, createdAtMs: 0, bytes: 10 })
  const r = new HintReplayer(l, 0, { backoffMsMin: 100, backoffMsMax: 300 })
  const all = (): boolean => true
  t.same(replayed(r.step({ type: 'tick', nowMs: 0, isHealthy: all })), [m.id])
  t.same(r.step({ type: 'failed', id: m.id, nowMs: 0 }), [{ type: 'wakeAt', atMs: 100 }])
  t.same(replayed(r.step({ type: 'tick', nowMs: 50, isHealthy: all })), [], 'backing off')
  t.same(replayed(r.step({ type: 'tick', nowMs: 100, isHealthy: all })), [m.id])
  t.same(r.step({ type: 'failed', id: m.id, nowMs: 100 }), [{ type: 'wakeAt', atMs: 300 }])
  r.step({ type: 'tick', nowMs: 300, isHealthy: all })
  t.same(r.step({ type: 'failed', id: m.id, nowMs: 300 }), [{ type: 'wakeAt', atMs: 600 }], 'capped at max')
  t.same(replayed(r.step({ type: 'tick', nowMs: 400, isHealthy: all })), [], 'still backing off')
  t.same(r.step({ type: 'ownerUp', owner: 4 }), [])
  t.same(replayed(r.step({ type: 'tick', nowMs: 401, isHealthy: all })), [m.id], 'the owner came back: replayed at once')
})
