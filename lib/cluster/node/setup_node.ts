// The setup module of a cluster node (lib/runtime/control.ts contract; PROTOCOL.md §9): the
// runtime loads it in each node worker, at first start and after every restart. It recovers
// the node from its own engine and returns the node's control functions.

import { LocalTransport } from '../../transport'
import { systemClock } from '../../util/clock'
import type { NodeContext } from '../../runtime'
import { ClusterNode } from './cluster_node'
import type { NodeSetupData } from './node_setup_data'

export async function setupNode(ctx: NodeContext): Promise<Record<string, (...args: never[]) => unknown>> {
  const data = ctx.data as NodeSetupData
  const node = new ClusterNode(new LocalTransport(ctx.endpoint), systemClock, data)
  await node.start()
  return {
    stats: () => node.stats(),
    stop: () => node.stop(),
    start: () => node.start(),
    readLocal: (key: Uint8Array) => node.readLocal(key),
    hintBytes: () => node.hintBytes(),
  }
}
