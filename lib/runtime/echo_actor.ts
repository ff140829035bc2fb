// A built-in echo actor: answers every request with its own payload and type. Used by the
// benchmark, the tests and as a liveness probe. echo_node.ts is a setup module hosting it.

import type { Endpoint } from './endpoint'
import { unknownType, type Message } from './message'

export const ECHO_ACTOR = 1

export function registerEcho(ep: Endpoint, actor = ECHO_ACTOR): void {
  ep.register(actor, (msg: Message) => {
    if (!msg.isRequest) throw unknownType(msg)
    ep.replyRaw(msg, msg.bytes, msg.offset, msg.length)
  })
}
