// Blocks a node's thread for a test (NodeControl.block) and waits until it is blocked: the
// hook answers first, and a control call that reaches the node before its thread blocks
// (one already in its port's queue) is still answered.

import type { KvError } from '../../lib/errors'
import type { Runtime } from '../../lib/runtime'

/**
 * Resolves with the KV_TIMEOUT of the first ping (bounded by `pingMs`) the blocked node did not
 * answer. A node that still answers 10 pings later is asked to block again (up to 5 times).
 */
export async function blockNode(rt: Runtime, id: number, ms: number, pingMs = 200): Promise<KvError> {
  for (let attempt = 0; attempt < 5; attempt++) {
    await rt.control(id).block(ms)
    for (let i = 0; i < 10; i++) {
      const err = await rt.call(id, 'ping', (c) => c.ping(), pingMs).then(() => undefined, (e: KvError) => e)
      if (err !== undefined) return err
    }
  }
  throw new Error(`node ${id} still answers after block(${ms}), asked 5 times`)
}
