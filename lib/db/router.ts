// How a Database reaches the cluster (PROTOCOL.md §9.5): client-driven coordination runs the
// RequestDriver on the caller's thread; the actor placement sends PUT/GET to the coordinator
// actor of a healthy primary. Both answer through the same callbacks.

import { KvError } from '../errors'
import type { Transport } from '../transport'
import {
  COORDINATOR_ACTOR, CoordinatorType, RequestDriver, type MergedFromCaches, decodeObject, decodeObjectReply, encodeGet, encodeWrite, payloadCopy, selectTargets,
  type GetCallback, type PutCallback, type WireWrite,
} from '../cluster'

export interface Router {
  put(write: WireWrite, w: number, timeoutMs: number, cb: PutCallback): void
  get(key: Buffer, r: number, timeoutMs: number, cb: GetCallback): void
  /** A get answered without a message (the read caches, PROTOCOL.md §9.8): the object bytes, or undefined. `key` is used during the call only. */
  cached(key: Buffer, r: number): Uint8Array | MergedFromCaches | undefined
}

/** Client-driven (Dynamo §6.4): the driver itself. */
export function clientRouter(driver: RequestDriver): Router {
  return driver
}

/** Through the coordinator actor of the first healthy primary of the key. */
export class ActorRouter implements Router {
  constructor(
    private readonly t: Transport,
    private readonly driver: RequestDriver,
  ) {}

  private coordinatorOf(key: Buffer): number | undefined {
    const e = this.driver.preferenceTable.forKey(key)
    const sel = selectTargets(e.primaries, e.fallbacks, (n) => this.driver.healthy(n))
    return (sel.targets.find((t) => t.hintFor === undefined) ?? sel.targets[0])?.node
  }

  private send(key: Buffer, type: number, payload: Uint8Array, timeoutMs: number, done: (err: KvError | undefined, resp: Buffer | undefined) => void): void {
    const node = this.coordinatorOf(key)
    if (node === undefined) {
      queueMicrotask(() => done(new KvError('KV_UNAVAILABLE', 'no live replica of the key', { live: 0 }), undefined))
      return
    }
    try {
      this.t.request(node, COORDINATOR_ACTOR, type, payload, (err, resp) => {
        // A coordinator that does not answer is suspected as a replica would be; one that
        // answers KV_TIMEOUT (its replicas did not answer) is not: it stops its round before
        // this deadline (PROTOCOL.md §9.3).
        this.driver.observe(node, err)
        done(err, resp === undefined ? undefined : payloadCopy(resp))
      }, { timeoutMs })
    } catch (err) {
      queueMicrotask(() => done(err as KvError, undefined))
    }
  }

  cached(): undefined {
    return undefined // the actor placement reads through the coordinator (no read caches)
  }

  put(write: WireWrite, w: number, timeoutMs: number, cb: PutCallback): void {
    this.send(write.key, CoordinatorType.PUT, encodeWrite(write, w), timeoutMs, (err, resp) => {
      if (err !== undefined) cb(err, undefined)
      else cb(undefined, resp!.subarray(1))
    })
  }

  get(key: Buffer, r: number, timeoutMs: number, cb: GetCallback): void {
    this.send(key, CoordinatorType.GET, encodeGet(key, r), timeoutMs, (err, resp) => {
      if (err !== undefined) return cb(err, undefined)
      let b: Buffer | undefined
      try {
        b = decodeObjectReply(resp!)
      } catch (e) {
        return cb(e as KvError, undefined)
      }
      cb(undefined, b === undefined ? undefined : decodeObject(b))
    })
  }
}
