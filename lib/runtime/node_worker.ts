// The entry point of a node worker thread (RUNTIME.md §8): builds the node's endpoint from
// workerData, runs the setup module (which registers actors and recovers state), starts the
// receive loop and reports ready. The ref'd parentPort listener is what keeps this thread
// alive while its loop is parked in Atomics.waitAsync (§4, Node 20).

import { parentPort, workerData } from 'node:worker_threads'
import * as Comlink from 'comlink'
import nodeEndpoint from 'comlink/dist/umd/node-adapter'
import { KvError } from '../errors'
import type { FromNode, NodeControl, NodeWorkerData, SetupNode, ToNode } from './control'
import { Endpoint } from './endpoint'
import { lowerThreadPriority, threadNice, threadTimes } from './thread'

function post(m: FromNode): void {
  parentPort!.postMessage(m)
}

async function main(): Promise<void> {
  const data = workerData as NodeWorkerData
  // First, so that threads the setup starts (compaction) inherit the lower priority.
  lowerThreadPriority(data.nice)
  const ep = new Endpoint({ id: data.id, generation: data.generation, doorbell: data.doorbell, idle: data.idle, localRingBytes: data.localRingBytes, start: false })
  for (const link of data.links) ep.installPeer(link, false)

  parentPort!.on('message', (m: ToNode) => {
    switch (m.t) {
      case 'peer-up':
        ep.installPeer(m.link)
        break
      case 'peer-down':
        ep.removePeer(m.id, m.generation)
        break
      case 'close':
        ep.close(new KvError('KV_CLOSED', 'the runtime is closed'))
        process.exit(0)
    }
  })

  let extra: Record<string, (...args: never[]) => unknown> = {}
  const control: NodeControl = {
    stats: () => ({ ...ep.stats, id: ep.id, generation: ep.generation, pendingRequests: ep.pendingRequests, threadNice: threadNice() ?? null, threadTimes: threadTimes() ?? null }),
    ping: () => 'pong',
    crash: () => {
      setImmediate(() => {
        throw new Error(`node ${ep.id}: crash requested through the control plane`)
      })
    },
    block: (ms) => {
      // After the answer, from an immediate: it runs once this thread has drained its control
      // port, which a caller pinging back to back can delay (test/support/block_node.ts).
      setImmediate(() => {
        const until = performance.now() + ms
        while (performance.now() < until);
      })
    },
    call: (name, ...args) => {
      const fn = extra[name]
      if (fn === undefined) throw new Error(`node ${ep.id} has no control function ${name}`)
      return (fn as (...a: unknown[]) => unknown)(...args)
    },
  }
  Comlink.expose(control, nodeEndpoint(data.controlPort as never))

  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(data.setupModule) as { setupNode?: SetupNode }
    if (typeof mod.setupNode !== 'function') throw new Error(`${data.setupModule} does not export setupNode`)
    extra = (await mod.setupNode({ id: ep.id, generation: ep.generation, endpoint: ep, data: data.setupData })) ?? {}
  } catch (err) {
    post({ t: 'setup-failed', message: err instanceof Error ? err.stack ?? err.message : String(err) })
    process.exit(1)
  }
  ep.start()
  post({ t: 'ready' })
}

void main()
