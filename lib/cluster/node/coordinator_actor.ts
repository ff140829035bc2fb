// The coordinator actor of one node (PROTOCOL.md §9.3, §9.5): takes PUT and GET from a
// caller and runs them through the node's RequestDriver, this node being the coordinating
// replica (§5.2). Its deadline is the request envelope's, less a margin for its answer.

import { coordinatorAnswerMarginMs, requestTimeoutMsDefault } from '../../constants'
import { KvError } from '../../errors'
import type { Transport } from '../../transport'
import type { Clock } from '../../util/clock'
import type { RequestDriver } from '../driver/request_driver'
import { COORDINATOR_ACTOR, CoordinatorType } from '../wire/actors'
import { decodeGet, decodeWrite, encodeObjectReply } from '../wire/replica_wire'
import { encodeObject } from '../versioning/object_codec'
import { wireVersion } from '../wire/actors'
import { payloadCopy } from '../wire/payload'

export function registerCoordinator(t: Transport, clock: Clock, driver: () => RequestDriver | undefined): void {
  t.register(COORDINATOR_ACTOR, (msg) => {
    const d = driver()
    if (d === undefined) throw new KvError('KV_UNAVAILABLE', `node ${t.self} is stopped`, { node: t.self })
    const target = msg.replyTarget()
    const budget = coordinatorBudget(Number.isFinite(msg.deadlineMs) ? msg.deadlineMs - clock.monotonicMs() : requestTimeoutMsDefault)
    switch (msg.type) {
      case CoordinatorType.PUT: {
        const w = decodeWrite(payloadCopy(msg), true)
        d.put(w, w.quorum, budget, (err, context) => {
          if (err !== undefined) t.replyError(target, err)
          else {
            const out = Buffer.allocUnsafe(1 + context!.length)
            out[0] = wireVersion
            context!.copy(out, 1)
            t.reply(target, out)
          }
        })
        return
      }
      case CoordinatorType.GET: {
        const g = decodeGet(payloadCopy(msg))
        d.get(g.key, g.r, budget, (err, object) => {
          if (err !== undefined) t.replyError(target, err)
          else t.reply(target, encodeObjectReply(object === undefined ? undefined : encodeObject(object)))
        })
        return
      }
      default:
        throw new KvError('KV_INVALID_ARGUMENT', `coordinator does not handle message type ${msg.type}`, { type: msg.type })
    }
  })
}

/**
 * The quorum round's budget out of what is left of the caller's: less a margin (a tenth, at
 * most coordinatorAnswerMarginMs), so that a KV_TIMEOUT from this coordinator reaches the
 * caller before its own deadline and is not taken for a silent node (PROTOCOL.md §9.3).
 */
export function coordinatorBudget(remainingMs: number): number {
  return Math.max(1, Math.floor(remainingMs - Math.min(coordinatorAnswerMarginMs, remainingMs / 10)))
}
