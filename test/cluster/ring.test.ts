// Ring, claim, preference lists and sloppy targets (PROTOCOL.md §2), against naive versions
// with a seeded prng. Dynamo §4.2 (partitioning) and §4.3 (replication).

import t from 'tap'
import { makePrng, seedFromEnv, type Prng } from '../../lib/util/prng'
import { hash32 } from '../../lib/util/hash'
import { ringHashSeed } from '../../lib/constants'
import { partitionOfKey, partitionOfHash, partitionStartHash } from '../../lib/cluster/ring/partition'
import { claim, claimTargets, movedPartitions } from '../../lib/cluster/ring/claim'
import { choosePrimaries, PreferenceTable, walkOwners } from '../../lib/cluster/ring/preference_list'
import { chooseCoordinator, coordinatorFirst, selectTargets } from '../../lib/cluster/ring/sloppy_targets'
import { Checks } from './support'
import { dcKey, hostKey, interleavedOrder, rackKey, type PlacedNode } from '../../lib/cluster/ring/labels'

const seed = seedFromEnv()
t.comment(`RINGWOOD_SEED=${seed}`)

function counts(owners: readonly number[]): Map<number, number> {
  const m = new Map<number, number>()
  for (const o of owners) m.set(o, (m.get(o) ?? 0) + 1)
  return m
}

function randomNodes(prng: Prng, n: number, labelled: boolean, firstId = 0): PlacedNode[] {
  return Array.from({ length: n }, (_, i) => {
    if (!labelled) return { id: firstId + i * 3 + prng.int(3) }
    const dc = `dc${prng.int(3)}`
    const rack = `r${prng.int(3)}`
    return { id: firstId + i * 3 + prng.int(3), dc, rack, host: `${dc}-${rack}-h${prng.int(3)}` }
  })
}

t.test('Dynamo 4.2: a key lands in the partition of the top bits of its hash', async (t) => {
  for (const q of [8, 64, 1024, 16384]) {
    for (const k of ['a', 'user:1', 'ringwood', '']) {
      const h = hash32(Buffer.from(k), ringHashSeed)
      const p = partitionOfKey(k, q)
      t.equal(p, Math.floor(h / (0x100000000 / q)), `${k} in Q=${q}`)
      t.ok(partitionStartHash(p, q) <= h && h < partitionStartHash(p, q) + 0x100000000 / q)
    }
  }
  t.equal(partitionOfHash(0xffffffff, 64), 63)
  t.equal(partitionOfHash(0, 64), 0)
  // Placement is part of the on-disk contract: these must never change.
  t.same(['a', 'b', 'user:42'].map((k) => partitionOfKey(k, 64)), [32, 38, 60])
  t.throws(() => partitionOfKey('a', 48))
})

t.test('keys spread evenly over partitions', async (t) => {
  const prng = makePrng(seed)
  const q = 64
  const hits = new Array<number>(q).fill(0)
  const keys = 64_000
  for (let i = 0; i < keys; i++) hits[partitionOfKey(prng.bytes(12), q)]!++
  for (const h of hits) t.ok(Math.abs(h - keys / q) < (keys / q) * 0.2, `partition load ${h} near ${keys / q}`)
})

t.test('initial claim: balanced, deterministic, consecutive partitions differ', async (t) => {
  const c = new Checks(t)
  const prng = makePrng(seed + 1)
  for (let trial = 0; trial < 50; trial++) {
    const q = prng.pick([8, 16, 64, 256])
    const nodes = randomNodes(prng, prng.range(1, Math.min(q, 20)), prng.bool())
    const owners = claim(nodes, q)
    const cnt = counts(owners)
    c.same(cnt.size, nodes.length, 'every node owns something')
    for (const n of cnt.values()) c.ok(n === Math.floor(q / nodes.length) || n === Math.ceil(q / nodes.length), 'balanced within 1')
    const shuffled = [...nodes].sort(() => prng.next() - 0.5)
    c.same(claim(shuffled, q), owners, 'independent of input order')
    if (nodes.length > 1) for (let p = 0; p + 1 < q; p++) c.ok(owners[p] !== owners[p + 1], 'neighbours differ')
  }
  c.done()
})

t.test('interleaved order alternates dcs, then racks, then hosts', async (t) => {
  const nodes: PlacedNode[] = [
    { id: 1, dc: 'a', rack: 'r1', host: 'h1' },
    { id: 2, dc: 'a', rack: 'r1', host: 'h1' },
    { id: 3, dc: 'a', rack: 'r2', host: 'h2' },
    { id: 4, dc: 'b', rack: 'r1', host: 'h3' },
    { id: 5, dc: 'b', rack: 'r1', host: 'h4' },
  ]
  t.same(interleavedOrder(nodes).map((n) => n.id), [1, 4, 3, 5, 2])
})

/** Naive minimal movement: partitions of departed nodes + surplus over the targets. */
function movementLowerBound(before: readonly number[], ids: readonly number[], q: number): number {
  const alive = new Set(ids)
  const c = counts(before.filter((o) => alive.has(o)))
  const targets = claimTargets(ids, q, c)
  let moved = before.filter((o) => !alive.has(o)).length
  for (const id of ids) moved += Math.max(0, (c.get(id) ?? 0) - targets.get(id)!)
  return moved
}

t.test('re-claim: balanced and moves only the lower bound of partitions', async (t) => {
  const c = new Checks(t)
  const prng = makePrng(seed + 2)
  for (let trial = 0; trial < 40; trial++) {
    const q = prng.pick([8, 32, 64, 128])
    const labelled = prng.bool()
    let nodes = randomNodes(prng, prng.range(1, 6), labelled)
    let owners = claim(nodes, q)
    let nextId = 1000
    for (let change = 0; change < 8; change++) {
      if (nodes.length > 1 && prng.bool(0.4)) {
        const gone = prng.int(nodes.length)
        nodes = nodes.filter((_, i) => i !== gone)
      }
      else if (nodes.length < q) nodes = [...nodes, ...randomNodes(prng, 1, labelled, nextId++ * 10)]
      const ids = nodes.map((n) => n.id)
      const next = claim(nodes, q, owners)
      const cnt = counts(next)
      for (const id of ids) {
        const n = cnt.get(id) ?? 0
        c.ok(n === Math.floor(q / ids.length) || n === Math.ceil(q / ids.length), `balanced: node ${id} owns ${n}`)
      }
      c.ok(next.every((o) => ids.includes(o)), 'owners are claiming nodes')
      c.same(movedPartitions(owners, next).length, movementLowerBound(owners, ids, q), 'minimal movement')
      c.same(claim([...nodes].reverse(), q, owners), next, 'deterministic')
      owners = next
    }
  }
  c.done()
})

t.test('adding one node to four moves about Q/5 partitions, all to the new node', async (t) => {
  const nodes: PlacedNode[] = [0, 1, 2, 3].map((id) => ({ id }))
  const before = claim(nodes, 64)
  const after = claim([...nodes, { id: 9 }], 64, before)
  const moved = movedPartitions(before, after)
  t.ok(moved.length === 12 || moved.length === 13, `moved ${moved.length}`)
  t.ok(moved.every((p) => after[p] === 9))
})

/** Naive preference list without labels: walk, skip repeats, take N. */
function naivePreferenceList(owners: readonly number[], p: number, n: number): number[] {
  const out: number[] = []
  for (let i = 0; i < owners.length && out.length < n; i++) {
    const o = owners[(p + i) % owners.length]!
    if (!out.includes(o)) out.push(o)
  }
  return out
}

t.test('Dynamo 4.3: preference lists equal the naive walk when nodes have no labels', async (t) => {
  const c = new Checks(t)
  const prng = makePrng(seed + 3)
  for (let trial = 0; trial < 100; trial++) {
    const q = prng.pick([8, 16, 64])
    const owners = Array.from({ length: q }, () => prng.int(prng.range(1, 10)))
    const nodes = [...new Set(owners)].map((id) => ({ id }))
    const n = prng.range(1, 8)
    const table = new PreferenceTable(owners, nodes, n)
    for (let p = 0; p < q; p++) {
      const e = table.entry(p)
      c.same(e.primaries, naivePreferenceList(owners, p, n))
      c.same([...e.primaries, ...e.fallbacks].sort(), [...new Set(owners)].sort(), 'primaries + fallbacks = every owner once')
    }
  }
  c.done()
})

t.test('preference lists spread over dcs, racks and hosts as far as possible', async (t) => {
  const c = new Checks(t)
  const prng = makePrng(seed + 4)
  for (let trial = 0; trial < 60; trial++) {
    const q = prng.pick([16, 64])
    const nodes = randomNodes(prng, prng.range(2, 12), true)
    const owners = claim(nodes, q)
    const byId = new Map(nodes.map((x) => [x.id, x]))
    const n = prng.range(1, 5)
    const distinct = (ids: readonly number[], f: (x: PlacedNode) => string): number => new Set(ids.map((id) => f(byId.get(id)!))).size
    for (let p = 0; p < q; p++) {
      const pl = choosePrimaries(walkOwners(owners, p), n, (id) => byId.get(id)!)
      c.same(pl[0], owners[p], 'the owner is first')
      c.same(new Set(pl).size, pl.length, 'distinct nodes')
      c.same(pl.length, Math.min(n, nodes.length))
      const all = nodes.map((x) => x.id)
      c.same(distinct(pl, dcKey), Math.min(n, distinct(all, dcKey)), 'dcs')
      c.same(distinct(pl, rackKey), Math.min(n, distinct(all, rackKey)), 'racks')
      c.same(distinct(pl, hostKey), Math.min(n, distinct(all, hostKey)), 'hosts')
    }
  }
  c.done()
})

t.test('sloppy quorum: down primaries are replaced in order by healthy fallbacks with hints', async (t) => {
  const c = new Checks(t)
  const prng = makePrng(seed + 5)
  for (let trial = 0; trial < 200; trial++) {
    const all = Array.from({ length: prng.range(3, 9) }, (_, i) => i)
    const primaries = all.slice(0, 3)
    const fallbacks = all.slice(3)
    const down = new Set(all.filter(() => prng.bool(0.3)))
    const healthy = (x: number): boolean => !down.has(x)
    const sel = selectTargets(primaries, fallbacks, healthy)
    // Naive: a queue of healthy fallbacks.
    const queue = fallbacks.filter(healthy)
    const expected = primaries.flatMap((p) => (healthy(p) ? [{ node: p }] : queue.length > 0 ? [{ node: queue.shift()!, hintFor: p }] : []))
    c.same(sel.targets, expected)
    c.same(sel.spares, queue)
  }
  c.done()
  const sel = selectTargets([1, 2, 3], [4, 5], (x) => x !== 1)
  t.same(sel.targets, [{ node: 4, hintFor: 1 }, { node: 2 }, { node: 3 }])
  t.equal(chooseCoordinator(sel.targets, 3), 3, 'the local node coordinates when it is a primary')
  t.equal(chooseCoordinator(sel.targets, 7), 2, 'else the first healthy primary')
  t.equal(chooseCoordinator([{ node: 4, hintFor: 1 }], 7), 4, 'else the first fallback')
  t.equal(chooseCoordinator([], 7), undefined)
  t.same(coordinatorFirst(sel.targets, 3).map((x) => x.node), [3, 4, 2])
})

