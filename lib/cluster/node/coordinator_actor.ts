// The coordinator actor of one node (PROTOCOL.md §9.3, §9.5): takes PUT and GET from a
// caller and runs them through the node's RequestDriver, this node being the coordinating
// replica (§5.2). Its deadline is the request envelope's remaining budget.

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
    const budget = Number.isFinite(msg.deadlineMs) ? Math.max(1, msg.deadlineMs - clock.monotonicMs()) : 5_000
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
