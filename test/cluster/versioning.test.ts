// Object and context encodings, conflict policies, client caps, TTL and tombstones
// (PROTOCOL.md §4.2–§4.6). Dynamo §4.4 (data versioning).

import t from 'tap'
import { makePrng, seedFromEnv, type Prng } from '../../lib/util/prng'
import { isKvError } from '../../lib/errors'
import { emptyObject, join, sync, update, type DvvObject } from '../../lib/cluster/versioning/dvv_object'
import { decodeObject, encodeObject, encodedObjectLength, scanSingleSibling } from '../../lib/cluster/versioning/object_codec'
import { decodeContext, encodeContext, contextToBase64 } from '../../lib/cluster/versioning/causal_context'
import { applyClientWrite, keepSiblings, mergeObjects, readResult, type ConflictPolicy } from '../../lib/cluster/versioning/conflict_policy'
import { checkClientCaps } from '../../lib/cluster/versioning/client_caps'
import { Checks } from './support'
import { catchErr } from '../support/tmp'

const seed = seedFromEnv()
t.comment(`RINGWOOD_SEED=${seed}`)
const b = (s: string): Buffer => Buffer.from(s)
const T0 = 1_700_000_000_000

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code'
  }
  return undefined
}

function write(obj: DvvObject | undefined, value: string | undefined, replica: number, ctx?: ReturnType<typeof join>, policy: ConflictPolicy = keepSiblings, ts = T0, ttlMs?: number) {
  return applyClientWrite(obj, { value: value === undefined ? undefined : b(value), context: ctx, timestampMs: ts, ttlMs }, replica, policy)
}

/** An object made by 1..writes+1 client writes of random replicas, each seeing the state before it with probability `join`. */
function randomObject(prng: Prng, o: { writes: number; replica: () => number; join: number; tombstones: number; valueBytes: number; expiryMax: number }): DvvObject {
  let obj: DvvObject = emptyObject
  for (let k = prng.int(o.writes); k >= 0; k--) {
    obj = update(obj, prng.bool(o.join) ? join(obj) : { vv: [], dots: [] }, o.replica(), {
      timestampMs: prng.int(2 ** 40),
      expiresAtMs: prng.bool() ? prng.int(o.expiryMax) + 1 : 0,
      ...(prng.bool(o.tombstones) ? { tombstone: true, value: Buffer.alloc(0) } : { tombstone: false, value: prng.bytes(prng.int(o.valueBytes)) }),
    }).object
  }
  return obj
}

/** scanSingleSibling on `bytes` reads what decodeObject read (`obj`): declined unless one sibling, else the same value, expiry and tombstone. */
function scanAgrees(bytes: Buffer, obj: DvvObject): boolean {
  const one = scanSingleSibling(bytes)
  if (obj.siblings.length !== 1) return one === undefined
  const s = obj.siblings[0]!
  return one !== undefined && bytes.subarray(one.valueStart, one.valueEnd).equals(s.value) && one.expiresAtMs === s.expiresAtMs && one.tombstone === s.tombstone
}

t.test('object encoding v1: golden bytes, round trip, canonical', async (t) => {
  const o = write(undefined, 'hi', 7).object
  const bytes = encodeObject(o)
  // version 1 | vv: 1 entry (7,1) | 1 sibling: dot (7,1), flags 0, ts varint, len 2, "hi"
  t.equal(bytes.subarray(0, 6).toString('hex'), '010107010107')
  t.equal(bytes.length, encodedObjectLength(o))
  t.same(decodeObject(bytes), o)
  const prng = makePrng(seed)
  const c = new Checks(t)
  for (let i = 0; i < 300; i++) {
    const obj = randomObject(prng, { writes: 6, replica: () => prng.int(4) * 1000, join: 0.5, tombstones: 0, valueBytes: 40, expiryMax: 2 ** 45 })
    const enc = encodeObject(obj)
    c.ok(enc.length === encodedObjectLength(obj), 'length')
    c.ok(encodeObject(decodeObject(enc)).equals(enc), 'round trip is canonical')
  }
  c.done()
})

t.test('scanSingleSibling reads a one-sibling object in place, as decodeObject does, and declines anything else', async (t) => {
  const prng = makePrng(seed ^ 0x5c)
  const c = new Checks(t)
  let singles = 0
  for (let i = 0; i < 400; i++) {
    const obj = randomObject(prng, { writes: 3, replica: () => (1 + prng.int(3)) * 1000, join: 0.7, tombstones: 0.2, valueBytes: 300, expiryMax: 2 ** 45 })
    const enc = encodeObject(obj)
    c.ok(scanAgrees(enc, obj), obj.siblings.length === 1 ? 'one sibling: read as decodeObject reads it' : 'several siblings: declined')
    if (obj.siblings.length !== 1) continue
    singles++
    for (const cut of [1, 2, enc.length - 1]) c.ok(scanSingleSibling(enc.subarray(0, cut)) === undefined, `truncated at ${cut}: declined`)
    c.ok(scanSingleSibling(Buffer.concat([enc, b('x')])) === undefined, 'trailing bytes: declined')
  }
  c.done()
  t.ok(singles > 50, `${singles} one-sibling objects`)
  t.equal(scanSingleSibling(Buffer.alloc(0)), undefined)
  t.equal(scanSingleSibling(b('\x02\x00\x01')), undefined, 'another version')
})

t.test('scanSingleSibling declines every byte string decodeObject rejects (seeded mutations)', async (t) => {
  const prng = makePrng(seed ^ 0x5d)
  const c = new Checks(t)
  let rejected = 0
  for (let i = 0; i < 20_000; i++) {
    const obj = randomObject(prng, { writes: 2, replica: () => (1 + prng.int(300)) * 1000, join: 0.7, tombstones: 0.2, valueBytes: 60, expiryMax: 2 ** 42 })
    const m = Buffer.from(encodeObject(obj))
    for (let j = 1 + prng.int(2); j > 0; j--) m[prng.int(m.length)] = prng.bool(0.25) ? prng.int(256) : prng.int(4)
    let decoded: DvvObject | undefined
    try {
      decoded = decodeObject(m)
    } catch {
      rejected++
      c.ok(scanSingleSibling(m) === undefined, `rejected by decodeObject, declined by the scan: ${m.toString('hex')}`)
      continue
    }
    c.ok(scanAgrees(m, decoded), `read as decodeObject reads it: ${m.toString('hex')}`)
  }
  c.done()
  t.ok(rejected > 1000, `${rejected} mutated objects rejected`)
})

t.test('object decoding: unknown version and malformed bytes', async (t) => {
  const bytes = encodeObject(write(undefined, 'hi', 7).object)
  t.equal(code(() => decodeObject(Buffer.concat([b('\x02'), bytes.subarray(1)]))), 'KV_UNSUPPORTED_VERSION')
  t.equal(code(() => decodeObject(bytes.subarray(0, bytes.length - 1))), 'KV_CORRUPTION', 'truncated')
  t.equal(code(() => decodeObject(Buffer.concat([bytes, b('x')]))), 'KV_CORRUPTION', 'trailing')
  const badFlags = Buffer.from(bytes)
  badFlags[6] = 0x80
  t.equal(code(() => decodeObject(badFlags)), 'KV_CORRUPTION', 'unknown flags')
  const uncovered = Buffer.from(bytes)
  uncovered[5] = 2 // sibling dot (7,2) beyond vv (7,1)
  t.equal(code(() => decodeObject(uncovered)), 'KV_CORRUPTION', 'dot not covered')
  t.equal(code(() => decodeObject(Buffer.alloc(0))), 'KV_CORRUPTION')
})

t.test('causal context v1: round trip, key check, malformed input is KV_INVALID_ARGUMENT', async (t) => {
  const ctx = { vv: [{ replica: 1, counter: 3 }, { replica: 9, counter: 1 }], dots: [{ replica: 2, counter: 5 }] }
  t.same(decodeContext('k', encodeContext('k', ctx)), ctx)
  t.same(decodeContext('k', contextToBase64('k', ctx)), ctx, 'base64')
  t.equal(code(() => decodeContext('other', encodeContext('k', ctx))), 'KV_INVALID_ARGUMENT', 'another key')
  const enc = encodeContext('k', ctx)
  t.equal(code(() => decodeContext('k', Buffer.concat([b('\x09'), enc.subarray(1)]))), 'KV_INVALID_ARGUMENT', 'unknown version')
  t.equal(code(() => decodeContext('k', enc.subarray(0, 7))), 'KV_INVALID_ARGUMENT', 'truncated')
  t.equal(code(() => decodeContext('k', 'not base64 at all!!')), 'KV_INVALID_ARGUMENT')
  t.equal(code(() => encodeContext('k', { vv: [], dots: [{ replica: 1, counter: 1 }] }) && decodeContext('k', encodeContext('k', { vv: [{ replica: 1, counter: 1 }], dots: [{ replica: 1, counter: 1 }] }))), 'KV_INVALID_ARGUMENT', 'a dot covered by the vv')
})

t.test('concurrent writes make siblings; a write with the context of a get supersedes them', async (t) => {
  const a = write(undefined, 'a', 1)
  const b2 = write(undefined, 'b', 2)
  const merged = sync(a.object, b2.object)
  const r = readResult(merged, keepSiblings, T0)!
  t.same(r.siblings.map(String), ['a', 'b'])
  t.equal(String(r.value), 'a', 'value is the first sibling in dot order')
  const c = write(merged, 'c', 1, r.context)
  t.same(readResult(c.object, keepSiblings, T0)!.siblings.map(String), ['c'])
  // The old replica state loses to it on sync: nothing resurrects.
  t.same(readResult(sync(b2.object, c.object), keepSiblings, T0)!.siblings.map(String), ['c'])
  // A write without context next to a value makes a sibling.
  const d = write(c.object, 'd', 1)
  t.same(readResult(d.object, keepSiblings, T0)!.siblings.map(String), ['c', 'd'])
})

t.test('the context a set returns replaces the client\'s own write, not a concurrent one it never saw', async (t) => {
  const x = write(undefined, 'x', 1) // someone else's write
  const mine = write(x.object, 'mine', 1) // no context: a sibling of x
  t.same(mine.context.dots, [{ replica: 1, counter: 2 }], 'not contiguous with the (empty) context: an exception dot')
  const next = write(mine.object, 'next', 1, mine.context)
  t.same(readResult(next.object, keepSiblings, T0)!.siblings.map(String), ['x', 'next'])
  const folded = write(next.object, 'again', 1, next.context)
  t.same(readResult(folded.object, keepSiblings, T0)!.siblings.map(String), ['x', 'again'])
})

t.test('deletes are versioned tombstones; without a context a delete removes what the replica holds', async (t) => {
  const a = write(undefined, 'a', 1)
  const del = write(a.object, undefined, 1)
  t.equal(readResult(del.object, keepSiblings, T0), undefined)
  t.equal(del.object.siblings.length, 1)
  t.ok(del.object.siblings[0]!.tombstone)
  // A concurrent write on another replica survives the delete.
  const other = write(undefined, 'b', 2)
  t.same(readResult(sync(del.object, other.object), keepSiblings, T0)!.siblings.map(String), ['b'])
  // The delete reaches a replica that still has 'a': 'a' goes.
  t.equal(readResult(sync(a.object, del.object), keepSiblings, T0), undefined)
})

t.test('TTL: an expired sibling reads as absent', async (t) => {
  const a = write(undefined, 'a', 1, undefined, keepSiblings, T0, 1000)
  t.equal(a.object.siblings[0]!.expiresAtMs, T0 + 1000)
  t.equal(String(readResult(a.object, keepSiblings, T0 + 999)!.value), 'a')
  t.equal(readResult(a.object, keepSiblings, T0 + 1000), undefined)
})

t.test('a client write drops dead siblings (tombstones, expired values) but its own; the vv still covers them', async (t) => {
  // A key rewritten with a TTL and no context, as a cache does: each value has expired by the next write.
  let obj: DvvObject | undefined
  for (let i = 0; i < 40; i++) obj = write(obj, `v${i}`, 1, undefined, keepSiblings, T0 + i * 100, 50).object
  t.same(obj!.siblings.map((s) => String(s.value)), ['v39'], 'one sibling, not 40 (the cap is 32)')
  // Beside a tombstone of another replica and a live value, a write keeps the live ones.
  const live = write(undefined, 'live', 2).object
  const tomb = write(write(undefined, 'x', 3).object, undefined, 3).object
  const merged = sync(live, tomb)
  t.equal(merged.siblings.length, 2, 'a merge keeps the concurrent tombstone')
  const after = write(merged, 'new', 1).object
  t.same(after.siblings.map((s) => (s.tombstone ? 'tombstone' : String(s.value))).sort(), ['live', 'new'])
  t.same(sync(after, tomb).siblings.map((s) => (s.tombstone ? 'tombstone' : String(s.value))).sort(), ['live', 'new'], 'a replica that still has the tombstone drops it in a merge')
  // A delete keeps its own tombstone.
  const del = write(merged, undefined, 1, { vv: [], dots: [] }).object
  t.same(del.siblings.map((s) => (s.tombstone ? 'tombstone' : String(s.value))).sort(), ['live', 'tombstone'])
})

t.test('under lww a newer tombstone still wins over an older write, dead or not', async (t) => {
  const lww: ConflictPolicy = { kind: 'lww' }
  const tomb = write(write(undefined, 'x', 2, undefined, lww, T0).object, undefined, 2, undefined, lww, T0 + 10).object
  const older = write(tomb, 'late', 1, { vv: [], dots: [] }, lww, T0 + 5).object
  t.equal(readResult(older, lww, T0 + 20), undefined, 'the delete at T0+10 beats the write at T0+5')
})

t.test('the context a write returns folds its own replica past the floor; it stays one entry over a chain of writes', async (t) => {
  let obj: DvvObject | undefined
  let ctx: ReturnType<typeof join> | undefined
  const sizes = new Set<number>()
  for (let i = 0; i < 100; i++) {
    const r = applyClientWrite(obj, { value: b(`v${i}`), context: ctx, timestampMs: T0 + i, counterFloor: 1000 }, 1, keepSiblings)
    obj = r.object
    ctx = r.context
    sizes.add(encodeContext(b('k'), ctx).length)
  }
  t.same(ctx, { vv: [{ replica: 1, counter: 1100 }], dots: [] })
  t.equal(sizes.size, 1, 'the encoded context does not grow')
  // Not when the replica holds a sibling the client has not seen: that one must survive.
  const seen = write(undefined, 'a', 1).object // (1,1)
  const other = write(seen, 'b', 1).object // (1,2): another client's write, without context
  const c = write(other, 'c', 1, join(seen)) // (1,3) by a client that saw only (1,1)
  t.same(c.context, { vv: [{ replica: 1, counter: 1 }], dots: [{ replica: 1, counter: 3 }] }, 'no fold over the unseen (1,2)')
  const d = write(c.object, 'd', 1, c.context)
  t.same(d.object.siblings.map((x) => String(x.value)), ['b', 'd'], 'so a write with that context keeps b')
})

t.test('last-write-wins is opt-in and keeps the newest by timestamp, then dot', async (t) => {
  const lww: ConflictPolicy = { kind: 'lww' }
  const old = write(undefined, 'old', 1, undefined, lww, T0)
  const newer = write(undefined, 'new', 2, undefined, lww, T0 + 5)
  const m = mergeObjects(old.object, newer.object, lww)!
  t.same(readResult(m, lww, T0)!.siblings.map(String), ['new'])
  t.equal(m.siblings.length, 1)
  t.same(readResult(mergeObjects(newer.object, old.object, lww), lww, T0)!.siblings.map(String), ['new'], 'order does not matter')
  // The same inputs under the default keep both.
  t.equal(mergeObjects(old.object, newer.object, keepSiblings)!.siblings.length, 2)
  const w = write(old.object, 'w', 1, undefined, lww, T0 + 10)
  t.equal(w.object.siblings.length, 1)
})

t.test('a resolver runs on the write path and on reads', async (t) => {
  const longest: ConflictPolicy = { kind: 'resolver', resolve: (s) => [...s].sort((x, y) => y.value.length - x.value.length)[0]!.value }
  const a = write(undefined, 'aaa', 1)
  const bb = write(undefined, 'b', 2)
  const merged = sync(a.object, bb.object)
  t.equal(String(readResult(merged, longest, T0)!.value), 'aaa')
  t.equal(readResult(merged, longest, T0)!.siblings.length, 2, 'siblings still listed')
  const w = write(merged, 'cc', 1, undefined, longest)
  t.equal(w.object.siblings.length, 1, 'the coordinator collapses siblings')
  t.equal(String(w.object.siblings[0]!.value), 'aaa')
  // The resolved value supersedes what it resolved on every replica.
  t.equal(sync(bb.object, w.object).siblings.length, 1)
  const next = write(w.object, 'z', 1, w.context, longest)
  t.same(readResult(next.object, keepSiblings, T0)!.siblings.map(String), ['z'], 'the returned context covers the resolution')
})

t.test('client caps: too many siblings or bytes is KV_TOO_MANY_SIBLINGS; merges are not capped', async (t) => {
  let obj: DvvObject | undefined
  for (let i = 0; i < 32; i++) obj = write(obj, `v${i}`, i % 3).object
  t.equal(obj!.siblings.length, 32)
  t.equal(code(() => write(obj, 'one too many', 1)), 'KV_TOO_MANY_SIBLINGS')
  t.equal(code(() => checkClientCaps(write(undefined, 'x'.repeat(100), 1).object, 10, 50)), 'KV_TOO_MANY_SIBLINGS')
  const other = write(undefined, 'other', 9).object
  t.equal(mergeObjects(obj, other, keepSiblings)!.siblings.length, 33, 'a replica merge is never refused')
  t.ok(isKvError(catchErr(() => write(obj, 'x', 1)), 'KV_TOO_MANY_SIBLINGS'))
  // With the context, the client resolves them and the write passes.
  t.equal(write(obj, 'resolved', 1, join(obj!)).object.siblings.length, 1)
})
