// The driver messages (PROTOCOL.md §9.2, §9.3) and the node's key layout (§9.4): round trips,
// exact bytes of a small message, unknown versions and malformed input.

import t from 'tap'
import { decodeGet, decodeKeyed, decodeObjectReply, decodeWrite, encodeGet, encodeKeyed, encodeObjectReply, encodeWrite } from '../../lib/cluster'
import { decodeWriteReply, encodeWriteReply } from '../../lib/cluster/wire/replica_wire'
import { dataKey, hintKey, partitionRange } from '../../lib/cluster/node/storage_keys'
import { replicaIdOf } from '../../lib/cluster'
import { errorCode as code } from '../support/tmp'

t.test('WRITE and PUT round trip, with and without ttl, context, value', async (tt) => {
  const key = Buffer.from('k')
  const cases = [
    { key, value: Buffer.from('v'), ttlMs: undefined, context: undefined },
    { key, value: undefined, ttlMs: undefined, context: Buffer.from([1, 2, 3]) },
    { key, value: Buffer.alloc(0), ttlMs: 300_000, context: Buffer.from([9]) },
  ]
  for (const c of cases) {
    const d = decodeWrite(encodeWrite(c), false)
    tt.same([d.key, d.value, d.ttlMs, d.context && Buffer.from(d.context)], [c.key, c.value, c.ttlMs, c.context])
    tt.equal(decodeWrite(encodeWrite(c, 2), true).quorum, 2)
  }
  // u8 version, u8 flags (hasTtl), varint 1, 'k', varint 5, 'v'
  tt.same([...encodeWrite({ key, value: Buffer.from('v'), ttlMs: 5, context: undefined })], [1, 2, 1, 0x6b, 5, 0x76], 'exact bytes')
  tt.equal(code(() => decodeWrite(Buffer.from([2, 0, 1, 0x6b]), false)), 'KV_UNSUPPORTED_VERSION')
  tt.equal(code(() => decodeWrite(Buffer.from([1, 8, 1, 0x6b]), false)), 'KV_CORRUPTION', 'unknown flag')
  tt.equal(code(() => decodeWrite(Buffer.from([1, 0, 5, 0x6b]), false)), 'KV_CORRUPTION', 'key past the end')
  tt.equal(code(() => decodeWrite(Buffer.from([1, 1, 1, 0x6b, 0x76]), false)), 'KV_CORRUPTION', 'a tombstone has no value')
})

t.test('keyed messages, replies, GET', async (tt) => {
  const k = decodeKeyed(encodeKeyed(7, Buffer.from('key'), Buffer.from([1, 2])))
  tt.same([k.hintFor, k.key.toString(), [...k.object]], [7, 'key', [1, 2]])
  tt.same([...decodeKeyed(encodeKeyed(0, Buffer.from('key'), undefined)).object], [])
  tt.equal(decodeObjectReply(encodeObjectReply(undefined)), undefined)
  tt.same([...decodeObjectReply(encodeObjectReply(Buffer.from([5])))!], [5])
  const w = decodeWriteReply(encodeWriteReply(Buffer.from([1, 2, 3]), Buffer.from([4])))
  tt.same([[...w.object], [...w.context]], [[1, 2, 3], [4]])
  const g = decodeGet(encodeGet(Buffer.from('abc'), 3))
  tt.same([g.key.toString(), g.r], ['abc', 3])
  tt.equal(code(() => decodeKeyed(Buffer.from([1, 0, 0]))), 'KV_CORRUPTION', 'empty key')
  tt.equal(code(() => decodeObjectReply(Buffer.from([3]))), 'KV_UNSUPPORTED_VERSION')
})

t.test('node key layout: partitions are contiguous ranges, hints and metadata apart', async (tt) => {
  const r = partitionRange(5)
  const inside = dataKey(5, Buffer.from([0xff, 0xff]))
  tt.ok(Buffer.compare(inside, r.gte) >= 0 && Buffer.compare(inside, r.lt) < 0)
  tt.ok(Buffer.compare(dataKey(6, Buffer.from([0])), r.lt) >= 0)
  tt.ok(Buffer.compare(dataKey(65535, Buffer.from([0xff])), hintKey(0, Buffer.from([0]))) < 0, 'data sorts before hints')
  tt.equal(replicaIdOf(3, 2), 2 * 1024 + 3)
})
