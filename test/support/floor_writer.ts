// A child process for test/cluster/floor_crash.test.ts: opens node 1 of `dir` at durability
// `sync` and rewrites one key with a TTL, each write with the context of the last (each a dead
// object to be: it raises the node's counter floor, PROTOCOL.md §4.5), printing
// "ack <counter>" for each acknowledged write, until it is killed. argv: dir
import { VnodeStore } from '../../lib/cluster/node/vnode_store'
import { openNode } from '../../lib/cluster/node/node_identity'
import { decodeObject } from '../../lib/cluster'
import { systemClock } from '../../lib/util/clock'

async function main(): Promise<void> {
  const dir = process.argv[2]!
  const node = await openNode(dir, 1, 'sync', systemClock)
  const store = new VnodeStore(node.engine, { kind: 'siblings' }, node.replicaId, systemClock, {
    tombstoneGraceMs: 60_000, counterFloor: node.counterFloor, saveFloorWithStores: true,
  })
  process.stdout.write(`ready ${node.incarnation} ${node.counterFloor}\n`)
  let context: Uint8Array | undefined
  for (;;) {
    const w = await store.write(0, { key: Buffer.from('k'), value: Buffer.from('v'), ttlMs: 60_000, context })
    context = w.context
    process.stdout.write(`ack ${decodeObject(w.object).siblings.at(-1)!.dot.counter}\n`)
  }
}

void main().catch((err) => {
  process.stderr.write(`${String(err)}\n`)
  process.exit(1)
})
