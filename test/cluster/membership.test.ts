// Membership as data, failure suspicion and option validation (PROTOCOL.md §3, §7).

import t from 'tap'
import { KvError } from '../../lib/errors'
import { addNode, createMembership, markLeaving, newerMembership, ownershipCounts, parseMembership, removeNode } from '../../lib/cluster/membership/membership'
import { SuspicionTable } from '../../lib/cluster/membership/suspicion'
import { resolveClusterOptions } from '../../lib/cluster/options/cluster_options'
import { checkDeleteRequest, checkGetRequest, checkSetRequest } from '../../lib/cluster/options/request_options'
import { encodeContext } from '../../lib/cluster/versioning/causal_context'

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof KvError ? err.code : `not a KvError: ${String(err)}`
  }
  return undefined
}

t.test('membership: explicit changes bump the epoch, re-claim, and survive JSON', async (t) => {
  const m1 = createMembership([{ id: 1, host: 'a' }, { id: 2, host: 'b' }, { id: 3, host: 'c' }], 64)
  t.same([...ownershipCounts(m1).values()].sort(), [21, 21, 22])
  const m2 = addNode(m1, { id: 4, host: 'd' })
  t.equal(m2.epoch, 2)
  t.same([...ownershipCounts(m2).values()], [16, 16, 16, 16])
  const m3 = markLeaving(m2, 2)
  t.notOk(m3.owners.includes(2), 'a leaving node owns nothing')
  const m4 = removeNode(m3, 2)
  t.equal(code(() => addNode(m4, { id: 2 })), 'KV_INVALID_ARGUMENT', 'ids are never reused')
  t.same(parseMembership(JSON.parse(JSON.stringify(m4))), m4)
  t.equal(newerMembership(m2, m4), m4)
  t.equal(newerMembership(m4, m2), m4)
  t.equal(code(() => parseMembership({ ...m4, version: 2 })), 'KV_UNSUPPORTED_VERSION')
  t.equal(code(() => parseMembership({ ...m4, owners: m4.owners.slice(1) })), 'KV_INVALID_ARGUMENT')
  t.equal(code(() => createMembership([{ id: 1, host: 'a', rack: 'r1' }, { id: 2, host: 'a', rack: 'r2' }], 64)), 'KV_INVALID_ARGUMENT', 'a host in two racks')
  t.equal(code(() => createMembership([{ id: 1 }], 48)), 'KV_INVALID_ARGUMENT')
})

t.test('suspicion: worker exits and repeated timeouts route around a node for a while', async (t) => {
  const s = new SuspicionTable(2, 1000)
  t.ok(s.isHealthy(1, 0))
  s.replicaTimeout(1, 0)
  t.ok(s.isHealthy(1, 0), 'one timeout is not enough')
  s.replicaTimeout(1, 10)
  t.notOk(s.isHealthy(1, 10))
  t.ok(s.isHealthy(1, 1010), 'probed again after the period')
  s.replicaTimeout(1, 1010)
  t.notOk(s.isHealthy(1, 1010), 'a failed probe suspects it again at once')
  s.replyReceived(1)
  t.ok(s.isHealthy(1, 1010))
  s.workerExited(2)
  t.notOk(s.isHealthy(2, 1e9))
  s.workerStarted(2)
  t.ok(s.isHealthy(2, 0))
})

t.test('open options: defaults and KV_INVALID_ARGUMENT for bad values', async (t) => {
  const o = resolveClusterOptions({ dir: '/tmp/x' }, 2)
  t.same([o.nodes, o.replicas, o.readQuorum, o.writeQuorum, o.partitions, o.durability, o.conflict.kind], [3, 3, 2, 2, 64, 'interval', 'siblings'])
  t.equal(resolveClusterOptions({ dir: 'd' }, 8).nodes, 8, 'nodes = max(3, cores)')
  t.equal(resolveClusterOptions({ dir: 'd', readQuorum: 'ALL', writeQuorum: 'ONE' }, 2).readQuorum, 3)
  t.equal(resolveClusterOptions({ dir: 'd', conflict: 'lww' }, 2).conflict.kind, 'lww')
  const bad: unknown[] = [
    {},
    { dir: 'd', readQuorum: 4 },
    { dir: 'd', writeQuorum: 0 },
    { dir: 'd', replicas: 4 },
    { dir: 'd', partitions: 100 },
    { dir: 'd', durability: 'fsync' },
    { dir: 'd', colour: 'red' },
    { dir: 'd', conflict: 'newest' },
    { dir: 'd', readQuorum: 'LOCAL_QUORUM' },
  ]
  for (const b of bad) t.equal(code(() => resolveClusterOptions(b, 2)), 'KV_INVALID_ARGUMENT', JSON.stringify(b))
  t.equal(code(() => resolveClusterOptions({ dir: 'd', memtableBytes: 1 }, 2, ['memtableBytes'])), undefined, 'storage options pass through')
})

t.test('request checks: key, value, ttl, quorum, context, unknown options', async (t) => {
  const d = { replicas: 3, readQuorum: 2, writeQuorum: 2, timeoutMs: 5000 }
  const s = checkSetRequest('k', 'v', { ttlMs: 10, level: 'ALL' }, d)
  t.same([s.key.toString(), s.value!.toString(), s.ttlMs, s.w, s.timeoutMs], ['k', 'v', 10, 3, 5000])
  const ctx = encodeContext('k', { vv: [{ replica: 1, counter: 2 }], dots: [] })
  t.same(checkSetRequest('k', 'v', { context: ctx.toString('base64') }, d).context, { vv: [{ replica: 1, counter: 2 }], dots: [] })
  t.equal(checkGetRequest('k', { r: 1 }, d).r, 1)
  t.equal(checkDeleteRequest('k', undefined, d).value, undefined)
  const bad: (() => unknown)[] = [
    () => checkSetRequest('', 'v', {}, d),
    () => checkSetRequest('k', 'v', { w: 4 }, d),
    () => checkSetRequest('k', 'v', { w: 2, level: 'ONE' }, d),
    () => checkSetRequest('k', 'v', { ttlMs: 0 }, d),
    () => checkSetRequest('k', 'v', { ttl: 5 }, d),
    () => checkSetRequest('k', 42, {}, d),
    () => checkSetRequest('k', Buffer.alloc(16 * 1024 * 1024 + 1), {}, d),
    () => checkSetRequest('k2', 'v', { context: ctx }, d),
    () => checkGetRequest('k', { r: 'MOST' }, d),
    () => checkGetRequest(Buffer.alloc(64 * 1024 + 1), {}, d),
    () => checkDeleteRequest('k', { ttlMs: 5 }, d),
    () => checkGetRequest('k', { timeoutMs: -1 }, d),
  ]
  for (const [i, f] of bad.entries()) t.equal(code(f), 'KV_INVALID_ARGUMENT', `case ${i}`)
})
