// Blocks a node's thread for a test (NodeControl.block) and waits until it is blocked: the
// hook answers first, and a control call that reaches the node before its thread blocks
// (one already in its port's queue) is still answered.
//
// The hook starts its busy loop from an immediate on the node's thread, which
// runs only once the thread has emptied its control port: Node drains a port in one go, taking
// also the messages that arrive meanwhile. A ping sent the moment the previous answer arrives
// can arrive before the node looks at its port again (the node thread is niced; on a loaded
// machine it loses its core right after posting its answer), and a chain of such pings keeps
// the node draining its port for as long as it lasts: the flake this file once had, in which
// the node answered every ping after block(), five times over (measured with a worker that posts
// its answer, then runs 1 ms: its immediate waited 347 pings sent back to back, and none sent
// 5 ms after each answer). So nothing is sent to the node for `quietMs` after each answer.

import type { KvError } from '../../lib/errors'
import type { Runtime } from '../../lib/runtime'

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Resolves with the KV_TIMEOUT of the first ping (bounded by `pingMs`) the blocked node did not
 * answer. A node that still answers 10 pings later is asked to block again (up to 5 times).
 */
export async function blockNode(rt: Runtime, id: number, ms: number, pingMs = 200, quietMs = 50): Promise<KvError> {
  for (let attempt = 0; attempt < 5; attempt++) {
    await rt.control(id).block(ms)
    for (let i = 0; i < 10; i++) {
      await pause(quietMs)
      const err = await rt.call(id, 'ping', (c) => c.ping(), pingMs).then(() => undefined, (e: KvError) => e)
      if (err !== undefined) return err
    }
  }
  throw new Error(`node ${id} still answers after block(${ms}), asked 5 times`)
}
