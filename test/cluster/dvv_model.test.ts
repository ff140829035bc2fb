// Dotted version vectors against a model of causal histories (PROTOCOL.md §4.1). Dynamo §4.4
// (data versioning). Each replica's object is checked after every step: its vv covers
// exactly the events it has seen, and its siblings are the events no seen write superseded
// (plus, at most, the false siblings PROTOCOL.md §4.4 documents). Also: sync is commutative,
// associative and idempotent. Seed 988367016 (trial 51) is the case that showed the gap.

import t from 'tap'
import { makePrng, seedFromEnv, type Prng } from '../../lib/util/prng'
import { contextAfterWrite, emptyContext, emptyObject, join, sync, update, checkObject, type Context, type DvvObject } from '../../lib/cluster/versioning/dvv_object'
import { covers, type Dot } from '../../lib/cluster/versioning/version_vector'
import { encodeObject } from '../../lib/cluster/versioning/object_codec'
import { Checks } from './support'

const seed = seedFromEnv()
t.comment(`RINGWOOD_SEED=${seed}`)

interface Event {
  id: number
  dot: Dot
  /** Events this write superseded (PROTOCOL.md §4.1: covered by the context's vv, or its dots where the coordinator had them). */
  sup: Set<number>
  /** Those covered by the context's vv alone. */
  supVv: Set<number>
}

function idOf(v: Buffer): number {
  return v.readUInt32LE(0)
}

function sibling(id: number, ts: number) {
  const value = Buffer.alloc(4)
  value.writeUInt32LE(id)
  return { timestampMs: ts, expiresAtMs: 0, tombstone: false, value }
}

function live(h: ReadonlySet<number>, events: readonly Event[], by: 'sup' | 'supVv' = 'sup'): number[] {
  return [...h].filter((x) => ![...h].some((y) => events[y]![by].has(x))).sort((a, b) => a - b)
}

/**
 * Siblings must include every event no seen write superseded (nothing lost), and may
 * include, beyond those, only events superseded through a context's *dot* (PROTOCOL.md §4.4:
 * a replica that learned of the superseding write only through a context's vv cannot know
 * which dots it discarded, so such an event can come back as a false sibling).
 */
function siblingsAllowed(got: number[], h: ReadonlySet<number>, events: readonly Event[]): boolean {
  const strict = live(h, events, 'sup')
  const loose = new Set(live(h, events, 'supVv'))
  return strict.every((x) => got.includes(x)) && got.every((x) => loose.has(x))
}

function run(prng: Prng, c: Checks, replicas: number, clients: number, steps: number): void {
  const objects: DvvObject[] = Array.from({ length: replicas }, () => emptyObject)
  const histories: Set<number>[] = Array.from({ length: replicas }, () => new Set())
  const ctxs: Context[] = Array.from({ length: clients }, () => emptyContext)
  const events: Event[] = []
  const eventsCoveredBy = (vv: Context['vv']): Set<number> => new Set(events.filter((e) => covers(vv, e.dot)).map((e) => e.id))

  for (let step = 0; step < steps; step++) {
    const op = prng.int(10)
    if (op < 4) {
      // put at replica i by a client, with its context or without one
      const i = prng.int(replicas)
      const cl = prng.int(clients)
      const ctx = prng.bool(0.75) ? ctxs[cl]! : emptyContext
      const id = events.length
      const { object, dot } = update(objects[i]!, ctx, 100 + i, sibling(id, step))
      const vvEvents = eventsCoveredBy(ctx.vv)
      const dotEvents = events.filter((e) => ctx.dots.some((d) => d.replica === e.dot.replica && d.counter === e.dot.counter)).map((e) => e.id)
      const sup = new Set([...vvEvents, ...dotEvents.filter((x) => histories[i]!.has(x))])
      events.push({ id, dot, sup, supVv: vvEvents })
      objects[i] = object
      histories[i] = new Set([...histories[i]!, ...vvEvents, id])
      ctxs[cl] = contextAfterWrite(ctx, dot)
    } else if (op < 7) {
      // get from a random non-empty subset of replicas
      const from = Array.from({ length: replicas }, (_, k) => k).filter(() => prng.bool())
      if (from.length === 0) from.push(prng.int(replicas))
      const merged = from.map((k) => objects[k]!).reduce(sync)
      ctxs[prng.int(clients)] = join(merged)
    } else {
      // replicate / repair: j syncs with i
      const i = prng.int(replicas)
      const j = prng.int(replicas)
      objects[j] = sync(objects[i]!, objects[j]!)
      histories[j] = new Set([...histories[i]!, ...histories[j]!])
    }
    for (let k = 0; k < replicas; k++) {
      const o = objects[k]!
      c.ok(checkObject(o) === undefined, `invariants: ${checkObject(o)}`)
      c.same([...eventsCoveredBy(o.vv)].sort((a, b) => a - b), [...histories[k]!].sort((a, b) => a - b), `vv covers exactly the history (step ${step})`)
      const got = o.siblings.map((s) => idOf(s.value)).sort((a, b) => a - b)
      c.ok(siblingsAllowed(got, histories[k]!, events), `siblings are the unsuperseded events (step ${step})`, { got, strict: live(histories[k]!, events) })
    }
  }
  // Anti-entropy to a fixed point: every replica converges on the live set of all events.
  const all = objects.reduce(sync)
  const everything = new Set(events.map((e) => e.id))
  c.ok(siblingsAllowed(all.siblings.map((s) => idOf(s.value)), everything, events), 'converged siblings')
}

t.test('Dynamo 4.4: DVV objects match the causal-history model', async (t) => {
  const prng = makePrng(seed)
  const c = new Checks(t)
  for (let trial = 0; trial < 150; trial++) run(prng, c, prng.range(1, 4), prng.range(1, 4), 40)
  c.done()
})

t.test('sync is commutative, associative and idempotent', async (t) => {
  const prng = makePrng(seed + 1)
  const c = new Checks(t)
  const enc = (o: DvvObject): string => encodeObject(o).toString('hex')
  for (let trial = 0; trial < 300; trial++) {
    // Build three replicas' objects from a shared random history.
    const objs: DvvObject[] = [emptyObject, emptyObject, emptyObject]
    let ctx: Context = emptyContext
    for (let s = 0; s < 12; s++) {
      const i = prng.int(3)
      if (prng.bool(0.5)) {
        const r = update(objs[i]!, prng.bool() ? ctx : emptyContext, i, sibling(s, s))
        objs[i] = r.object
        ctx = contextAfterWrite(ctx, r.dot)
      } else if (prng.bool()) {
        objs[i] = sync(objs[i]!, objs[prng.int(3)]!)
      } else {
        ctx = join(objs[prng.int(3)]!)
      }
    }
    const [a, b, d] = objs as [DvvObject, DvvObject, DvvObject]
    c.same(enc(sync(a, b)), enc(sync(b, a)), 'commutative')
    c.same(enc(sync(sync(a, b), d)), enc(sync(a, sync(b, d))), 'associative')
    c.same(enc(sync(a, a)), enc(a), 'idempotent')
    c.same(enc(sync(a, emptyObject)), enc(a), 'empty is the identity')
  }
  c.done()
})
